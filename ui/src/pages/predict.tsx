import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { request } from '../api.js';
import { TopClasses } from '../components/charts.js';
import { ErrorNote, Facts, Section } from '../components/common.js';
import { score } from '../format.js';
import { categoryLabel, useCategories } from '../state.js';
import type { PredictionReply } from '../types.js';

const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

/** Predict: one product (title, description, image) classified by the champion. */
export function PredictPage() {
  const categories = useCategories();
  const [designation, setDesignation] = useState('');
  const [description, setDescription] = useState('');
  const [image, setImage] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [result, setResult] = useState<PredictionReply | null>(null);

  useEffect(() => {
    if (!image) return setPreview(null);
    const url = URL.createObjectURL(image);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [image]);

  const pick = (file: File | undefined | null) => {
    setError(undefined);
    if (!file) return setImage(null);
    if (!file.type.startsWith('image/')) return setError(new Error(`${file.name} is not an image`));
    if (file.size > MAX_IMAGE_BYTES) return setError(new Error(`${file.name} is larger than 5 MiB`));
    setImage(file);
  };
  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const form = new FormData();
      form.append('designation', designation);
      if (description.trim()) form.append('description', description);
      form.append('topK', '5');
      if (image) form.append('image', image, image.name);
      setResult(await request<PredictionReply>('POST', '/predict/product', { form }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <h1>Predict</h1>
      <Section title="Product" testId="predict-form">
        <form
          class="predict"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <label>
            Title
            <input value={designation} onInput={(e) => setDesignation(e.currentTarget.value)} required maxLength={10000} aria-label="Title" />
          </label>
          <label>
            Description
            <textarea value={description} onInput={(e) => setDescription(e.currentTarget.value)} rows={4} aria-label="Description" />
          </label>
          <div
            class={`dropzone${dragging ? ' dragging' : ''}`}
            data-testid="dropzone"
            onDragOver={(e) => {
              e.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={(e) => {
              e.preventDefault();
              setDragging(false);
              pick(e.dataTransfer?.files[0]);
            }}
          >
            {preview ? <img src={preview} alt="Chosen image" class="preview" /> : null}
            <p>{image ? `${image.name} (${Math.round(image.size / 1024)} KiB)` : 'Drop an image here, or choose a file.'}</p>
            <label class="file">
              Image
              <input type="file" accept="image/*" onChange={(e) => pick(e.currentTarget.files?.[0])} aria-label="Image file" />
            </label>
            {image ? (
              <button type="button" onClick={() => setImage(null)}>
                Remove image
              </button>
            ) : null}
          </div>
          <div class="actions">
            <button type="submit" class="primary" disabled={busy || !designation.trim()}>
              {busy ? 'Classifying…' : 'Classify'}
            </button>
          </div>
        </form>
        <ErrorNote error={error} what="Prediction" />
      </Section>
      {result ? (
        <Section title="Prediction" testId="prediction">
          <p class="headline">{categoryLabel(categories, result.prdtypecode, result.name)}</p>
          {result.disagreement ? (
            <p class="warning" data-testid="disagreement">
              Text alone says {categoryLabel(categories, result.textClass)}; image alone says {categoryLabel(categories, result.imageClass)}.
            </p>
          ) : null}
          <TopClasses top={result.top} categories={categories} />
          <Facts
            items={[
              ['Confidence (margin top-1 − top-2)', score(result.confidence?.margin)],
              ['Entropy (normalised)', score(result.confidence?.entropy)],
              ['Model version', `v${result.modelVersion}`],
              ['Image used', result.usedImage ? 'yes' : 'no'],
              ['Server time', `${result.ms.toFixed(0)} ms`],
              ...(result.id ? [['Review id', <code>{result.id}</code>] as [string, ComponentChildren]] : []),
            ]}
          />
        </Section>
      ) : null}
    </>
  );
}
