/* msgscan.h: find where one msgpack object ends, within limits, before
 * msgpack-c unpacks it. msgpack-c trusts lengths and container counts and
 * allocates for them up front; scanning first bounds every allocation by the
 * bytes actually present. */
#ifndef USJ_MSGSCAN_H
#define USJ_MSGSCAN_H
#include <stddef.h>
#include <stdint.h>

/* Containers nested deeper than this are refused (msgpack-c's own stack
 * holds 32). */
#define USJ_SCAN_MAX_DEPTH 24

enum { USJ_SCAN_DONE, USJ_SCAN_MORE, USJ_SCAN_BAD };

/* usj_msg_scan: examine buf[0..len).
 * DONE: *size is the object's length.
 * MORE: the object is incomplete; *size is a lower bound on its length.
 * BAD: malformed, too deep, more than max_nodes objects or more than max_bytes
 * bytes; *why says which. */
int usj_msg_scan(const uint8_t *buf, size_t len, size_t max_bytes, size_t max_nodes,
                 size_t *size, const char **why);

#endif
