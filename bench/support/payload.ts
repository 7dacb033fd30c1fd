/**
 * The one report shape every measurement sends, to the sidecar and to its baselines alike:
 * a distinct 512-character task token per call (real ones run to several hundred characters; the
 * limit is 1024), a short reason and 1 KB (1,024 characters) of details.
 */
export const PAYLOAD = {
  tokenChars: 512,
  reason: 'bench: simulated activity failure',
  detailsChars: 1024,
} as const;

/** proto enum numbers of swfsidecar.v1.Delivery. */
export const DELIVERY = { confirmed: 1, queued: 2 } as const;

/** proto enum numbers of swfsidecar.v1.Outcome, as the load driver reports them. */
export const OUTCOME = { delivered: 1, queued: 2 } as const;
