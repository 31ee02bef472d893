/** A usage record's share of a reconciliation: cents added to its cost, estimates it settles. */
export interface DriftShare {
  date: string;
  channel: string;
  cents: number;
  estimated: number;
}

/**
 * Shares a tenant's drift (Zavu's total minus the records') out over the records that hold estimates,
 * in proportion to their estimates (largest remainders, so the shares add up to the drift exactly),
 * and settles those estimates. With no estimate to correct, the drift goes to the latest record: sends
 * the gateway did not see (a crash before a flush) or priced wrong are still billed.
 */
export function shareDrift(
  drift: number,
  estimated: Array<{ date: string; channel: string; estimated_cents: number }>,
  latest: { date: string; channel: string } | null,
): DriftShare[] {
  const total = estimated.reduce((n, r) => n + r.estimated_cents, 0);
  if (total <= 0) {
    const shares: DriftShare[] = estimated.map((r) => ({
      date: r.date,
      channel: r.channel,
      cents: 0,
      estimated: r.estimated_cents,
    }));
    if (drift !== 0 && latest) {
      const same = shares.find((s) => s.date === latest.date && s.channel === latest.channel);
      if (same) same.cents += drift;
      else shares.push({ date: latest.date, channel: latest.channel, cents: drift, estimated: 0 });
    }
    return shares;
  }
  const exact = estimated.map((r) => (drift * r.estimated_cents) / total);
  const shares = estimated.map((r, i) => ({
    date: r.date,
    channel: r.channel,
    cents: Math.trunc(exact[i]!),
    estimated: r.estimated_cents,
  }));
  let left = drift - shares.reduce((n, s) => n + s.cents, 0);
  const order = exact.map((x, i) => ({ i, rest: Math.abs(x - Math.trunc(x)) })).sort((a, b) => b.rest - a.rest);
  for (let k = 0; left !== 0; k = (k + 1) % order.length) {
    const step = Math.sign(left);
    shares[order[k]!.i]!.cents += step;
    left -= step;
  }
  return shares;
}
