/* msgscan.c: a msgpack framing walker (see msgscan.h). */
#include "msgscan.h"

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int usj_msg_scan(const uint8_t *buf, size_t len, size_t max_bytes, size_t max_nodes,
                 size_t *size, const char **why)
{
	uint64_t left[USJ_SCAN_MAX_DEPTH + 1]; /* objects still to read at each open level */
	int top = 0;
	left[0] = 1;
	size_t pos = 0, nodes = 0;
	while (top >= 0) {
		if (left[top] == 0) {
			top--;
			continue;
		}
		if (pos >= len) {
			*size = pos + 1;
			return USJ_SCAN_MORE;
		}
		uint8_t b = buf[pos];
		int lenbytes = 0;    /* width of a big-endian length or count after b */
		uint64_t fixed = 0;  /* payload bytes known from b alone */
		uint64_t children = 0;
		int counted = 0;     /* 1: length field is a payload size, 2: array count, 3: map count */
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
		} else if (b <= 0x8f) {
			children = 2u * (b & 0x0f);
		} else if (b <= 0x9f) {
			children = b & 0x0f;
		} else if (b <= 0xbf) {
			fixed = b & 0x1f;
		} else switch (b) {
		case 0xc4: case 0xd9: lenbytes = 1; counted = 1; break;
		case 0xc5: case 0xda: lenbytes = 2; counted = 1; break;
		case 0xc6: case 0xdb: lenbytes = 4; counted = 1; break;
		case 0xc7: lenbytes = 1; counted = 1; fixed = 1; break; /* ext: +1 type byte */
		case 0xc8: lenbytes = 2; counted = 1; fixed = 1; break;
		case 0xc9: lenbytes = 4; counted = 1; fixed = 1; break;
		case 0xca: fixed = 4; break;
		case 0xcb: fixed = 8; break;
		case 0xcc: case 0xd0: fixed = 1; break;
		case 0xcd: case 0xd1: fixed = 2; break;
		case 0xce: case 0xd2: fixed = 4; break;
		case 0xcf: case 0xd3: fixed = 8; break;
		case 0xd4: fixed = 2; break; /* fixext: type byte + 1, 2, 4, 8, 16 */
		case 0xd5: fixed = 3; break;
		case 0xd6: fixed = 5; break;
		case 0xd7: fixed = 9; break;
		case 0xd8: fixed = 17; break;
		case 0xdc: lenbytes = 2; counted = 2; break;
		case 0xdd: lenbytes = 4; counted = 2; break;
		case 0xde: lenbytes = 2; counted = 3; break;
		case 0xdf: lenbytes = 4; counted = 3; break;
		default: *why = "invalid msgpack type byte 0xc1"; return USJ_SCAN_BAD;
		}
		if (pos + 1 + (size_t)lenbytes > len) {
			*size = pos + 1 + (size_t)lenbytes;
			return USJ_SCAN_MORE;
		}
		uint64_t n = be(buf + pos + 1, lenbytes);
		if (counted == 1)
			fixed += n;
		else if (counted == 2)
			children = n;
		else if (counted == 3)
			children = 2 * n;
		pos += 1 + (size_t)lenbytes;
		/* every child takes at least one byte: refuse counts the limit cannot hold */
		if (fixed > max_bytes || children > max_bytes || pos + fixed + children > max_bytes) {
			*why = "object larger than the record size limit";
			return USJ_SCAN_BAD;
		}
		pos += (size_t)fixed;
		if (++nodes > max_nodes) {
			*why = "too many msgpack objects in one record";
			return USJ_SCAN_BAD;
		}
		left[top]--;
		if (children) {
			if (top == USJ_SCAN_MAX_DEPTH) {
				*why = "containers nested too deeply";
				return USJ_SCAN_BAD;
			}
			left[++top] = children;
		}
		if (pos > len) {
			*size = pos;
			return USJ_SCAN_MORE;
		}
	}
	*size = pos;
	return USJ_SCAN_DONE;
}
