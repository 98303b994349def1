// Types for the deep module paths of `natural` used here; its main entry is avoided on purpose
// (it loads database clients, takes 1.5 s and prints to stdout).
declare module 'natural/lib/natural/stemmers/porter_stemmer.js' {
  const stemmer: { stem(token: string): string };
  export default stemmer;
}
declare module 'natural/lib/natural/stemmers/porter_stemmer_fr.js' {
  const stemmer: { stem(token: string): string };
  export default stemmer;
}
declare module 'natural/lib/natural/stemmers/porter_stemmer_de.js' {
  const stemmer: { stem(token: string): string };
  export default stemmer;
}
declare module 'natural/lib/natural/tokenizers/regexp_tokenizer.js' {
  export class RegexpTokenizer {
    constructor(options?: { pattern?: RegExp; gaps?: boolean; discardEmpty?: boolean });
    tokenize(text: string): string[];
  }
}
