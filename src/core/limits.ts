/** The limits a handler may need to size its own engine requests (the pipeline still caps output). */
export interface Limits {
  maxResponseBytes: number;
  maxExecOutputBytes: number;
  maxLogLines: number;
  maxListResults: number;
}
