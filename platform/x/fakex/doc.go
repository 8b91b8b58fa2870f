// Package fakex is a fake X (Twitter) API v2 server: how Herald tests
// publishing without X, and what `herald fake-x` serves for demos. It is
// an http.Handler; run it in process with httptest.NewServer(fakex.New(o))
// or out of process with the command.
//
// It answers as X does, as far as X's OpenAPI document (version 2.166) and
// the facts Herald keeps about X say, because a fake that is kinder than X
// lets bugs through: the same paths and methods; request bodies checked
// against X's schemas (unknown members, wrong types, patterns, item counts
// and enums each reported in an invalid-request problem with
// errors[].parameters and messages of the form "$.path: ..."); unknown query
// parameters refused; problem JSON (application/problem+json) with X's
// type URIs, titles and details; rate-limit headers on every answer of a
// rate-limited endpoint and 429s past the limit; 200 answers that carry
// errors[] beside data (resource-not-found, not-authorized-for-field).
//
// Faithful:
//   - POST /2/tweets: 280 weighted characters (schedules.WeightedLength,
//     twitter-text's weighting: URLs 23, CJK and emoji 2), text or media
//     required, media_ids 1 to 4 numeric strings, media exclusive of poll,
//     quote and card, media the author uploaded, unexpired and processed (4
//     images, or 1 GIF or video), replies only to posts that exist (403),
//     duplicate text per author refused with X's 403 (judged on the text
//     the author wrote, over Options.DuplicateWindow). A post with media
//     gets X's t.co link appended to its text (a space and 23
//     characters), described in entities.urls (with the media_key) and
//     display_text_range when tweet.fields asks for them.
//   - DELETE /2/tweets/:id by the author only; GET /2/tweets?ids= with up to
//     100 ids, public_metrics for anyone, non_public_metrics and
//     organic_metrics for the author's posts of the last 30 days only;
//     GET /2/users/:id/tweets newest first with since_id, until_id,
//     start_time, end_time, max_results 5..100, pagination_token and meta,
//     where a new post appears only Options.TimelineLag after its
//     creation, as on X, where it can take a few seconds; GET /2/users/me.
//   - Media: one-shot upload (multipart or JSON base64), chunked
//     initialize/append/finalize, STATUS polling with processing_info
//     (pending, in_progress, succeeded or failed, check_after_secs) for GIF
//     and video, size limits per category (image 5 MB, GIF 15 MB, video 512
//     MB), appended bytes that must add up to total_bytes, media ids that
//     expire (expires_after_secs), alt text through POST /2/media/metadata.
//   - OAuth 2.0: access tokens live 2 hours (Options.AccessTokenTTL);
//     POST /2/oauth2/token rotates
//     the refresh token, and a spent one answers 400 invalid_request;
//     confidential clients authenticate with HTTP Basic. OAuth 1.0a
//     HMAC-SHA1 signatures are verified (RFC 5849).
//   - Rate limits: X's published limits by default (DefaultLimits), fixed
//     15-minute and 24-hour windows per user and per app, x-rate-limit-*,
//     x-user-limit-24hour-* and x-app-limit-24hour-* headers.
//
// Deliberate simplifications:
//   - Only user-context auth: no app-only bearer tokens, so per-app windows
//     count user requests (X applies some per-app limits to app-only
//     requests). x-rate-limit-* report the 15-minute window with the fewest
//     requests left. Answers to failed authentication carry no rate-limit
//     headers. Token scopes are not checked.
//   - OAuth 1.0a timestamps and nonces are not checked; the authorization
//     code flow is not served (register users with tokens instead).
//   - URLs in the authored text are not rewritten to t.co links, as X does
//     in the text it returns, and entities lists only the media link (no
//     URLs, mentions or hashtags of the authored text): a client that
//     compares texts must not rely on that.
//   - Expansions and the *.fields other than tweet.fields are accepted and
//     ignored; tweet.fields values the fake cannot fill are left out. Posts
//     are visible to every user (no protected accounts, no blocks); the
//     3,200-post cap of user timelines is not applied.
//   - Duplicate detection compares the exact authored text with the
//     author's posts that are not deleted, created within
//     Options.DuplicateWindow, by default whatever their age (X does not
//     publish its window).
//   - Media bytes are counted, not kept; images are recognised by their
//     first bytes, GIF and video are not decoded (no duration check). A
//     media id may be attached by its uploader and additional_owners.
//   - Editing posts (edit_options) is refused. Quoting a post that does not
//     exist answers 400; deleting an unknown or deleted post answers
//     {"deleted": false}: X documents neither.
//
// Beyond X, the fake has faults (Inject, POST /_fake/faults, or `herald
// fake-x --fault`): a status with a body; latency on a real timer; a 429
// with a given reset and requests left, rate-limit headers left out, or a
// 24-hour window reported exhausted; a connection dropped before the
// request is acted on or after (the post is then stored but the client
// gets no answer); and, with AfterStore, a post stored and then answered
// with a 5xx or held back past the client's timeout. Chaos (Options.Chaos,
// SetChaos, PUT /_fake/chaos) injects those faults at random, from a
// seeded source, for soak tests. Every request is recorded (Requests, GET
// /_fake/requests), each faulted one marked, so tests can assert what
// reached "X". The page at / lists the accepted posts for people watching
// a demo.
//
// Time comes from the injected clock.Clock: tests drive token expiry,
// rate-limit windows, media processing, the timeline lag and the
// duplicate window with clock.Fake. Only fault latency and chaos hangs
// use real timers, as the client timeouts they test do.
//
// The package imports clock and schedules (for the weighted length) and
// nothing else of Herald's; nothing but tests and the command import it.
package fakex
