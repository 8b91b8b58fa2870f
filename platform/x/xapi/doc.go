// Package xapi is Herald's small client for the X API v2: create, delete
// and look up posts, list an account's recent posts, upload media (one-shot
// and chunked, with processing status) and set alt text, and refresh
// OAuth 2.0 tokens. Requests are exactly what X's OpenAPI document
// describes (field names, content types, no unknown fields), because X
// rejects anything else.
//
// It owns the HTTP conversation with X and nothing more: rate limiting,
// retries with backoff, token storage and reconciliation belong to its
// callers, which decide from the Class of each failure. Callers see every
// request before it is sent, through two hooks: Options.BeforeRequest
// (the rate limiter counts each request, each media chunk and STATUS poll
// included) and a guard carried by the context (WithGuard: the publisher
// refuses a request its job's lease would not outlive). It imports only
// Herald's clock package.
//
// # Classification
//
// Every failure is an *Error with a Class, because the publisher's next
// step depends on it, not on the HTTP details:
//
//	what happened                                   class
//	2xx, with or without errors[] beside data        success (errors[] kept as Problems)
//	429                                              RateLimited; ResetAt is the latest reset of the windows
//	                                                 X reports exhausted (remaining 0: x-rate-limit-*,
//	                                                 x-user-limit-24hour-*, x-app-limit-24hour-*), else
//	                                                 x-rate-limit-reset, else zero (back off)
//	5xx                                              Ambiguous for create_post, delete_post and token;
//	                                                 Transient for everything else
//	408                                              Transient
//	transport error before the request was written   Transient (dial refused, DNS, TLS, timeout)
//	transport error after it was written             Ambiguous for create_post, delete_post and
//	  (dropped connection, read timeout, EOF,        token; Transient for everything else
//	  a 2xx answer that cannot be read)
//	401                                              Auth.Refresh once; if it refreshed, the request
//	                                                 is retried once; a second 401, or no refresh,
//	                                                 is Reauth
//	403 unsupported-authentication                   Reauth (wrong kind of credentials)
//	token endpoint: invalid_request, invalid_grant,  Reauth (the refresh token is spent or revoked:
//	  invalid_client                                 an operator must authorize again)
//	other 4xx: 400 invalid request, 402 credits,     Permanent, with X's title, detail and errors[]
//	  403 forbidden / duplicate content /
//	  client-forbidden, 404, 409...
//	media processing state "failed"                  Permanent, with X's message
//	refused before sending by the context's guard    Transient, the guard's error wrapped
//	  (WithGuard)
//	refused before sending by Options.BeforeRequest  Transient, the hook's error wrapped; or the class
//	                                                 and ResetAt of an *Error the hook returned
//
// Why these choices:
//   - "Written" is known from net/http/httptrace (WroteRequest): before it,
//     X cannot have acted, so trying again is safe.
//   - After it, X may have acted. X has no idempotency key, so a lost
//     answer to create_post is Ambiguous: the caller must look for the post
//     (UserPosts) before posting again, or a retry answered 403 duplicate
//     content (IsDuplicate) tells it the first attempt landed. delete_post
//     is treated alike. A lost token answer is Ambiguous because X may
//     have spent the single-use refresh token. Media calls are not: a lost
//     initialize, append or finalize leaves at worst an unused media id
//     that expires by itself, and the caller uploads again. Reads are
//     always safe to repeat.
//   - A 5xx answer is Ambiguous on the same endpoints: X can store a post
//     and still answer 5xx, so it proves no more than a lost answer. On
//     other endpoints it is Transient.
//   - A rate-limit header that is absent is unknown, never zero
//     (RateLimit): X may send any subset of them.
//   - Problem types are matched by suffix (".../problems/client-forbidden"):
//     the host part of X's type URIs has changed over time. Duplicate
//     content has no type of its own and is matched on the detail text.
//
// Answers are read up to 4 MiB, so that a hostile or broken server cannot
// exhaust memory; error texts never include credentials.
package xapi
