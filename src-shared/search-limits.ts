// Limits of a search that the console checks as the user types and the contract enforces; a file
// of its own so the renderer takes the number without the contract's schemas.

/** The longest query a search takes (characters): a pasted passage or a whole document (search by example). */
export const MAX_SEARCH_CHARS = 20_000;
