import type { DocumentCollection } from '../../stores/types.js';
import { conflicts, type JobKind } from '../../pipeline/jobs.js';

/** A job holding an admission slot. */
export interface AdmittedJob {
  /** Job id. */
  id: string;
  /** Its kind. */
  kind: JobKind;
  /** When it was admitted (ISO-8601). */
  admittedAt: string;
}

/** The one admission document: the jobs admitted and not yet released, with a revision for compare-and-set. */
export interface AdmissionDoc {
  /** Always `jobs`: there is one. */
  _id: string;
  /** Bumped by every change: the compare-and-set condition. */
  revision: number;
  /** Admitted jobs. */
  jobs: AdmittedJob[];
}

const ADMISSION_ID = 'jobs';

/**
 * Exact admission of jobs across every server and worker on one store: the jobs admitted and
 * not yet finished are kept in one document that changes only by compare-and-set, so of two
 * conflicting jobs started at the same instant on two machines, exactly one is admitted.
 * A job holds its slot while queued and while running; its slot is released when it finishes.
 * A slot whose job is over without having released it (its process was killed) is dropped by the
 * next admission, which asks `isOver` about every holder it is in the way of.
 */
export class JobAdmission {
  /** Creates the admission over its collection (`job_admission`). */
  constructor(private readonly docs: DocumentCollection<AdmissionDoc>) {}

  private async read(): Promise<AdmissionDoc> {
    const doc = await this.docs.get(ADMISSION_ID);
    if (doc) return doc;
    await this.docs.insertIfAbsent({ _id: ADMISSION_ID, revision: 0, jobs: [] });
    return (await this.docs.get(ADMISSION_ID)) as AdmissionDoc;
  }

  /**
   * Admits `job` unless a job it conflicts with holds a slot; resolves the holder in the way
   * (the job is then not admitted), or `undefined` once admitted.
   */
  async admit(job: AdmittedJob, isOver: (held: AdmittedJob) => Promise<boolean>): Promise<AdmittedJob | undefined> {
    for (;;) {
      const doc = await this.read();
      const live: AdmittedJob[] = [];
      let blocker: AdmittedJob | undefined;
      for (const held of doc.jobs) {
        if (held.id === job.id) return undefined;
        // Only holders in the way are asked about: the answer costs a read.
        if (conflicts(job.kind, held.kind) && (await isOver(held))) continue;
        live.push(held);
        if (!blocker && conflicts(job.kind, held.kind)) blocker = held;
      }
      const next: AdmissionDoc = { _id: ADMISSION_ID, revision: doc.revision + 1, jobs: blocker ? live : [...live, job] };
      if (blocker && live.length === doc.jobs.length) return blocker;
      // Written also when refused, to drop the dead holders found on the way.
      if (await this.docs.compareAndSet(ADMISSION_ID, { revision: doc.revision }, next)) return blocker;
    }
  }

  /** Releases the slot of job `id` (nothing when it holds none). */
  async release(id: string): Promise<void> {
    for (;;) {
      const doc = await this.read();
      if (!doc.jobs.some((j) => j.id === id)) return;
      const next: AdmissionDoc = { _id: ADMISSION_ID, revision: doc.revision + 1, jobs: doc.jobs.filter((j) => j.id !== id) };
      if (await this.docs.compareAndSet(ADMISSION_ID, { revision: doc.revision }, next)) return;
    }
  }

  /** The jobs holding a slot. */
  async held(): Promise<AdmittedJob[]> {
    return (await this.read()).jobs;
  }
}
