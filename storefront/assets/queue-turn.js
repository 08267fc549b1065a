// What a waiting page can tell from the line's status file alone, without
// asking the API: the same rules as chalicelib/domain/onsale.py (draw_for,
// turn_known), checked against them in tests/test_queue_turn_browser.py.

/** A pre-queue entry's draw: HMAC-SHA-256(draw key, entry id), the first 16 hex
    digits. The key is in the status file only once the draw is done. */
export async function drawFor(keyHex, entryId) {
  const bytes = new Uint8Array(keyHex.match(/../g).map((b) => parseInt(b, 16)));
  const key = await crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(entryId)));
  return Array.from(mac.slice(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
}

function bigOrZero(text) {
  return typeof text === 'string' && /^\d+$/.test(text) ? BigInt(text) : 0n;
}

/** 'served' (the line was served past this buyer: ask for the result, once),
    'not_admitted' (sold out before this buyer's turn; places may still come back),
    or null. `entry`: the join's answer; `draw`: drawFor(...) for a pre-queue entry. */
export function turnFromStatus(status, entry, draw) {
  if (!status?.open || !entry) return null;
  const preCount = Number(status.pre_count) || 0;
  let served; let admitted;
  if (entry.pre_queue) {
    if (!draw) return null;
    served = (Number(status.served_until) || 0) >= preCount || draw <= (status.served_draw_until || '');
    admitted = (Number(status.serving) || 0) >= preCount || draw <= (status.admitted_draw_until || '');
  } else {
    if (!entry.sequence_number) return null;
    const sequence = bigOrZero(entry.sequence_number);
    served = sequence <= bigOrZero(status.served_sequence_until);
    admitted = sequence <= bigOrZero(status.admitted_sequence_until);
  }
  if (served) return 'served';
  return status.sold_out && !admitted ? 'not_admitted' : null;
}
