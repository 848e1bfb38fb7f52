/** What the page learns about the server's files at start-up (`GET /api/info`). */
export interface ServerInfo {
  /** The datasets `squeeze setup` prepared in --data_dir, each split's file by URL. */
  datasets: { name: string; classes: string[]; trainCount: number; testCount: number; train: string; test: string }[];
  /** The model `squeeze save` wrote in --model_dir, if any. */
  model: { weights: string; labels: string } | null;
  /** A few test images, one per class. */
  gallery: { url: string; name: string; label: string }[];
}
