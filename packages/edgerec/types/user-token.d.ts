// "edgerec/user-token": server-side minting of the per-user tokens of GET /users/{userId}/profile.

export interface MintUserTokenOptions {
  /** The user-token secret (serve's `userTokenSecret`, the Worker's `USER_TOKEN_SECRET`); at least 16 bytes. */
  secret: string | Uint8Array;
  /** The signed-in user (1–256 characters). */
  userId: string;
  /** Lifetime in seconds (default 3600); ignored when `expiresAt` is given. */
  ttlSeconds?: number;
  /** Expiry in Unix seconds. */
  expiresAt?: number;
  /** The current time in milliseconds (default `Date.now()`). */
  now?: number;
}

/** Mints `v1.<base64url(userId)>.<expiry>.<base64url(HMAC-SHA256)>`; rejects with an `InvalidInputException`. */
export declare function mintUserToken(options: MintUserTokenOptions): Promise<string>;
