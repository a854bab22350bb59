// Package rangefilter is the HTTP Range filter of the proxyspec reference
// reverse proxy.
//
// The proxy calls [Decide] when a GET request carrying a Range header field
// receives a complete 200 (OK) response of known length from the origin (no
// Content-Range). Decide returns what the proxy must send instead:
//
//   - [Ignore]: forward the 200 response unchanged (RFC 9110 §14.2: a server
//     MAY always ignore Range);
//   - [Single]: a 206 (Partial Content) with Content-Range set from
//     [ContentRange] (RFC 9110 §15.3.7.1);
//   - [Multi]: a 206 with Content-Type from [MultipartContentType], a body
//     written by [WriteMultipart] and Content-Length from [MultipartLength]
//     (RFC 9110 §14.6, §15.3.7.2);
//   - [Unsatisfiable]: a 416 (Range Not Satisfiable) with Content-Range set
//     from [UnsatisfiedRange] (RFC 9110 §15.5.17).
//
// # Policy choices
//
// The RFC leaves several points to the server. This package decides them as
// follows (each is also documented next to the code that implements it):
//
//   - Only the exact method "GET" has range semantics (RFC 9110 §9.1: method
//     names are case-sensitive; §14.2: GET is the only method for which range
//     handling is defined). HEAD and everything else: Ignore.
//   - The range unit "bytes" is matched case-insensitively (RFC 9110 §14.1);
//     any other unit: Ignore (RFC 9110 §14.2, a proxy MAY discard a Range
//     with a unit it does not understand).
//   - Any syntactically invalid element makes the whole field invalid:
//     Ignore (RFC 9110 §14.2: a server MAY ignore an invalid
//     ranges-specifier). Numbers that do not fit in int64 are treated as
//     invalid rather than clamped.
//   - "bytes=" with no range-spec at all (empty, whitespace or only empty
//     list elements): 416, mirroring Pingora 0.8. The grammar requires
//     1#range-spec (RFC 9110 §14.1.1), so ignoring the field (200) would be
//     equally conformant; 416 was chosen for behavioural parity.
//   - An int-range whose last-pos is less than its first-pos (e.g. "1-0") is
//     invalid per RFC 9110 §14.1.1; following Pingora 0.8 it is treated as an
//     unsatisfiable range-spec (dropped), not as a reason to ignore the whole
//     field. "bytes=1-0" alone therefore yields 416.
//   - More than 100 range-specs: Ignore (RFC 9110 §14.2 anti-abuse).
//   - Overlap policy: if any two satisfiable ranges overlap (after
//     resolution and clamping against the representation length), the whole
//     field is ignored (200), like Pingora. Ranges are never coalesced or
//     reordered; adjacent (touching but not overlapping) ranges and
//     descending non-overlapping ranges are served as requested, in request
//     order (RFC 9110 §15.3.7.2 SHOULD).
//   - If-Range with an HTTP-date is compared byte-for-byte with the
//     response's Last-Modified field value ("exactly matches", RFC 9110
//     §13.1.5). The same instant written in another date format does not
//     match, which falls back to the always-safe 200. The RFC's additional
//     "strong Last-Modified" requirement (§8.8.2.2, Date at least one second
//     after Last-Modified) cannot be checked with the inputs available here
//     and is left to the caller.
package rangefilter
