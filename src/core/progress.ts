/** Reports progress of a long operation; the pipeline throttles and forwards it to the client. */
export type ProgressFn = (progress: number, total?: number, message?: string) => void;
