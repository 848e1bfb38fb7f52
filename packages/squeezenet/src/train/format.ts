/**
 * Python's `'{:>.4}'.format(x)` for the sample's output lines: 4 significant digits, rounded
 * half-to-even on the exact binary value (JavaScript's toPrecision rounds ties up), fixed-point
 * with at least one digit after the point ('1.0', not '1'), scientific when the exponent is < -4 or
 * ≥ precision − 1 (CPython: '1234.0' would need a fifth digit, so 1234 prints as '1.234e+03').
 */
export function formatPythonPrecision(x: number, precision = 4): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const { digits, exponent } = roundHalfEven(exactDecimal(Math.abs(x)), precision);
  // digits: `precision` significant digits d0.d1d2… × 10^exponent
  let out: string;
  if (exponent < -4 || exponent >= precision - 1) {
    const mantissa = stripZeros(digits[0] + '.' + digits.slice(1));
    out = `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  } else if (exponent >= 0) {
    const intPart = digits.slice(0, exponent + 1);
    const frac = stripTrailingZeros(digits.slice(exponent + 1));
    out = `${intPart}.${frac || '0'}`;
  } else {
    const frac = stripTrailingZeros('0'.repeat(-exponent - 1) + digits);
    out = `0.${frac}`;
  }
  return sign + out;
}

function stripTrailingZeros(s: string): string { return s.replace(/0+$/, ''); }
function stripZeros(s: string): string { return s.replace(/\.?0+$/, ''); }

/** The exact decimal digits of a positive double and the exponent of its first digit. */
function exactDecimal(x: number): { digits: string; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e2: number;
  if (biased === 0) e2 = -1074;
  else { mantissa |= 1n << 52n; e2 = biased - 1075; }
  // x = mantissa · 2^e2 = (mantissa · 5^-e2) · 10^e2 when e2 < 0
  let digits: string;
  let pointShift: number; // x = digits · 10^pointShift
  if (e2 >= 0) { digits = (mantissa << BigInt(e2)).toString(); pointShift = 0; }
  else { digits = (mantissa * 5n ** BigInt(-e2)).toString(); pointShift = e2; }
  const trimmed = digits.replace(/^0+/, '');
  return { digits: trimmed, exponent: trimmed.length - 1 + pointShift };
}

function roundHalfEven(d: { digits: string; exponent: number }, precision: number): { digits: string; exponent: number } {
  const { digits } = d;
  let exponent = d.exponent;
  if (digits.length <= precision) return { digits: digits.padEnd(precision, '0'), exponent };
  let kept = BigInt(digits.slice(0, precision));
  const rest = digits.slice(precision);
  const first = rest.charCodeAt(0) - 48;
  const tail = /[1-9]/.test(rest.slice(1));
  if (first > 5 || (first === 5 && (tail || kept % 2n === 1n))) kept += 1n;
  let s = kept.toString();
  if (s.length > precision) { s = s.slice(0, precision); exponent += 1; }
  return { digits: s, exponent };
}

/** `Train Step 12   :  0.1562` — the sample's `'{:<5}'` step column. */
export function trainLine(step: number, accuracy: number): string {
  return `Train Step ${String(step).padEnd(5)}:  ${formatPythonPrecision(accuracy)}`;
}

export function evalLine(step: number, accuracy: number): string {
  return `Evaluation Step ${String(step).padEnd(5)}:  ${formatPythonPrecision(accuracy)}`;
}
