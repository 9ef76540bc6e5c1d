/* Typed access to jsmn tokens with a JSON path for error messages; shared by
 * the manifest's parsing files only. */
#ifndef KERNEL_MANIFEST_JSON_H
#define KERNEL_MANIFEST_JSON_H

#ifndef JSMN_H /* manifest_parse.c includes jsmn's implementation first */
#define JSMN_HEADER
#include <jsmn.h>
#endif

#include "kernel/manifest.h"

struct json_ctx {
	const char *js;
	const jsmntok_t *tok;
	int ntok;
	char path[96];
	size_t path_len;
	struct manifest_error *err;
};

/* One member an object may have: its name and how to read its value. */
struct json_field {
	const char *name;
	int (*parse)(struct json_ctx *c, int tok, void *obj);
};

int json_fail(struct json_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t json_path_push_key(struct json_ctx *c, const char *key);
size_t json_path_push_index(struct json_ctx *c, int index);
void json_path_pop(struct json_ctx *c, size_t saved);
/* Index of the token after the value at `tok` and everything inside it. */
int json_skip(const struct json_ctx *c, int tok);
/* jsmn lets a missing or extra comma ("[1,]") through: check every gap. */
int json_check_separators(struct json_ctx *c, int tok);
/* Reads an object whose members must all be in `fields`, none twice. */
int json_object(struct json_ctx *c, int tok, const struct json_field *fields, size_t n, void *obj);
int json_array(struct json_ctx *c, int tok, int max, int *count);
int json_uint(struct json_ctx *c, int tok, uint32_t min, uint32_t max, uint32_t *out);
/* The same for 64-bit values; `max` below 2^63. */
int json_uint64(struct json_ctx *c, int tok, uint64_t min, uint64_t max, uint64_t *out);
int json_bool(struct json_ctx *c, int tok, bool *out);
int json_string(struct json_ctx *c, int tok, char *out, size_t max_len);
int json_name(struct json_ctx *c, int tok, char *out);
int json_enum(struct json_ctx *c, int tok, const char *const *names, int n, int *out);

#endif
