// A small library of three subjects (bees, sailing, tax), two documents on each of the first two,
// for "find similar": a passage about bees must find the other bee document first, not a boat.
export const SIMILAR_CORPUS: Record<string, string> = {
  'hive-inspection.md': `# Hive inspection notes

## Opening the hive

Light the smoker before lifting the crown board, and work the colony from the side. Pull each brood frame slowly, look for eggs, larvae and capped brood, and find the queen or signs of her laying. Count varroa mites on the sticky board under the hive floor; a heavy mite drop means the colony needs treatment before the winter cluster forms.

## Honey supers

When the brood box is full, add a honey super above the queen excluder. The bees draw comb and store nectar; capped frames of honey are ready to extract with the spinner.
`,
  'swarm-control.md': `# Swarm control for beekeepers

## Queen cells

A colony that runs out of room builds queen cells along the bottom of the brood frames and prepares to swarm. Inspect every frame each week in spring, smoke the bees gently, and split the colony: move the old queen with some brood and nectar to a new hive, and leave the queen cells behind. Check the mite load of both colonies, since varroa spreads with the brood.

## Catching a swarm

A swarm of bees hangs in a cluster on a branch around its queen. Shake the bees into a box, keep the colony shaded, and hive it at dusk on frames of drawn comb; treat it for varroa before its first brood is capped.
`,
  'tacking.md': `# Sailing upwind

## Tacking

To sail against the wind, steer close hauled and tack through the eye of the wind. Ease the jib sheet, put the helm down, and let the boom cross the cockpit; trim the new sheet on the winch and settle on the other tack. The keel and the rudder keep the boat from sliding sideways.

## Reefing

When the gusts heel the boat too far, reef the mainsail at the mast before the wind rises further.
`,
  'mooring.md': `# Mooring and anchoring

## Coming into the harbour

Drop the sails outside the harbour, motor in slowly against the tide, and have fenders and mooring lines ready on both sides of the boat. Pick up the buoy at the bow, or lay the anchor with three times the depth in chain, and check that it holds as the wind swings the hull.
`,
  'vat-invoices.md': `# VAT on invoices

## What an invoice must show

Every invoice shows the supplier's VAT number, the date of supply, the net amount, the rate and the tax charged. Keep copies for six years; the quarterly return totals the output tax of the invoices issued and the input tax of those received.
`,
};
