/**
 * The live training progress line (`step 120/1801 · 0.41 s/step · ETA 11:29`) on stderr, only when
 * stderr is a terminal; `clear()` erases it before a regular line is printed.
 */
export function progressLine(stream: NodeJS.WriteStream = process.stderr): {
  update: (p: { step: number; maxSteps: number; msPerStep: number }) => void;
  clear: () => void;
} {
  let shown = false;
  return {
    update({ step, maxSteps, msPerStep }) {
      if (!stream.isTTY) return;
      const left = Math.max(0, maxSteps - step - 1) * msPerStep / 1000;
      const eta = `${Math.floor(left / 3600) > 0 ? `${Math.floor(left / 3600)}:` : ''}${String(Math.floor(left / 60) % 60).padStart(2, '0')}:${String(Math.floor(left % 60)).padStart(2, '0')}`;
      stream.write(`\r\x1b[Kstep ${step + 1}/${maxSteps} · ${(msPerStep / 1000).toFixed(2)} s/step · ETA ${eta}`);
      shown = true;
    },
    clear() {
      if (shown && stream.isTTY) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}
