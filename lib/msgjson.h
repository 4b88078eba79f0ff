/* msgjson.h: msgpack objects as JSON (jansson), for people and scripts. */
#ifndef USJ_MSGJSON_H
#define USJ_MSGJSON_H
#include <jansson.h>
#include <msgpack.h>

/* usj_object_json: a new JSON value for o. Binary data becomes
 * {"bin": <length>}, a msgpack-numpy array {"ndarray": "<f4", "shape": [..]}. */
json_t *usj_object_json(const msgpack_object *o);
/* usj_json_print: dump v on one line to f (compact, keys in input order). */
void usj_json_print(FILE *f, const json_t *v);

#endif
