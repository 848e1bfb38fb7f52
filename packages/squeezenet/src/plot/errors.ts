/** Nothing to plot, or an input that cannot be plotted. The message is one line naming the file or folder and what to do. */
export class PlotError extends Error {
  override readonly name = 'PlotError';
}
