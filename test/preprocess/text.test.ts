import { describe, expect, it } from 'vitest';
import {
  collapseWhitespace,
  decodeEntities,
  detectLanguage,
  normaliseUnicode,
  stripTags,
  TextPreprocessor,
} from '../../src/stages/preprocess/text.js';

const tp = new TextPreprocessor();

describe('text cleaning steps', () => {
  it('decodes named, decimal, hex and double-encoded entities', () => {
    expect(decodeEntities('caf&#233; cr&egrave;me &#xE0; 5&nbsp;&euro; &amp; co')).toBe('café crème à 5\u00a0€ & co');
    expect(decodeEntities('Antibact&amp;eacute;rien')).toBe('Antibactérien');
    expect(decodeEntities('no entity & plain text')).toBe('no entity & plain text');
  });

  it('strips nested tags, <br> variants, scripts, styles and comments without gluing words', () => {
    expect(collapseWhitespace(stripTags('<p>un<br>deux<br/>trois<br />quatre</p>'))).toBe('un deux trois quatre');
    expect(collapseWhitespace(stripTags('<ul><li><b>Gras <i>et</i> italique</b></li><li>deux</li></ul>'))).toBe(
      'Gras et italique deux',
    );
    expect(collapseWhitespace(stripTags('a<style>p{color:red}</style>b<script>alert(1)</script>c<!-- x -->d'))).toBe('a b c d');
    expect(stripTags('taille < 5 cm, <3 coeur')).toBe('taille < 5 cm, <3 coeur');
  });

  it('normalises Unicode and removes invisible characters', () => {
    expect(normaliseUnicode('ﬁlm\u200b ＡＢＣ\u00ad e\u0301')).toBe('film ABC é');
  });

  it('cleans a whole field: encoded tags, entities, case, whitespace', () => {
    expect(tp.clean('&lt;b&gt;Très&lt;/b&gt; JOLI\n\t<br>Vase&nbsp;&amp;&nbsp;Fleurs')).toBe('très joli vase & fleurs');
  });
});

describe('TextPreprocessor.prepare', () => {
  it('keeps both fields, joins them with a separator and never glues words', () => {
    const p = tp.prepare({ designation: 'Lampe<br>LED', description: '<p>Blanc</p><p>chaud</p>' });
    expect(p.designation).toBe('lampe led');
    expect(p.description).toBe('blanc chaud');
    expect(p.text).toBe('lampe led . blanc chaud');
    expect(p.textHash).toMatch(/^[0-9a-f]{40}$/);
  });

  it('handles an empty or missing description', () => {
    for (const description of ['', null, undefined, '<p> </p>', '&nbsp;']) {
      const p = tp.prepare({ designation: 'Figurine Pop Star Wars', description });
      expect(p.description).toBe('');
      expect(p.text).toBe('figurine pop star wars');
      expect(p.descriptionTokens).toEqual([]);
    }
    expect(tp.prepare({ designation: '', description: '' }).textHash).toBeNull();
  });

  it('detects French, English and German and stems with the matching stemmer', () => {
    const fr = tp.prepare({ designation: 'Chaussures de randonnée pour les enfants', description: '' });
    expect(fr.language).toBe('fr');
    expect(fr.designationTokens).toEqual(['chaussur', 'randon', 'enfant']);
    const en = tp.prepare({ designation: 'Running shoes for the kids with laces', description: '' });
    expect(en.language).toBe('en');
    expect(en.designationTokens).toContain('run');
    expect(en.designationTokens).not.toContain('the');
    const de = tp.prepare({ designation: 'Personalisiertes Notizbuch für die Schule mit Punktraster', description: '' });
    expect(de.language).toBe('de');
    expect(de.designationTokens).not.toContain('die');
    expect(detectLanguage([])).toBe('fr');
  });

  it('keeps numbers and model codes, drops one-letter tokens', () => {
    const p = tp.prepare({ designation: 'Manette PS4 - lot de 2 - 3,5 kg', description: '' });
    expect(p.designationTokens).toEqual(expect.arrayContaining(['ps4', 'kg']));
    expect(p.designationTokens).not.toContain('2');
  });

  it('handles mixed languages in one product', () => {
    const p = tp.prepare({
      designation: 'Puzzle 1000 pièces',
      description: 'The puzzle for the whole family. Le puzzle pour toute la famille. Das Puzzle für die ganze Familie.',
    });
    expect(['fr', 'en', 'de']).toContain(p.language);
    expect(p.descriptionTokens.length).toBeGreaterThan(5);
  });

  it('bounds a very long description and stays fast', () => {
    const long = '<p>' + 'Une description très longue avec des mots répétés, '.repeat(5000) + '</p>';
    const t0 = performance.now();
    const p = tp.prepare({ designation: 'Livre', description: long });
    expect(performance.now() - t0).toBeLessThan(500);
    expect(p.description.length).toBeLessThanOrEqual(5000);
    expect(p.description.endsWith(' ')).toBe(false);
  });

  it('is deterministic, and a custom step list is applied in order', () => {
    const input = { designation: 'Vase <b>Bleu</b>', description: 'Céramique &amp; verre' };
    expect(tp.prepare(input)).toEqual(new TextPreprocessor().prepare(input));
    const custom = new TextPreprocessor({ steps: [(s) => s.toUpperCase()], stem: false, removeStopWords: false });
    expect(custom.prepare({ designation: 'a b', description: '' }).designation).toBe('A B');
  });
});
