/* Reading values out of jsmn's token array, with errors that name the JSON
 * path of the offending field. jsmn (Debian libjsmn-dev) tokenizes; this file
 * checks types and ranges. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernel/manifest_json.h"

int json_fail(struct json_ctx *c, const char *fmt, ...)
{
	va_list ap;

	snprintf(c->err->field, sizeof(c->err->field), "%s", c->path_len ? c->path : "(top level)");
	va_start(ap, fmt);
	vsnprintf(c->err->reason, sizeof(c->err->reason), fmt, ap);
	va_end(ap);
	c->err->vm = -1;
	return -1;
}

static size_t path_append(struct json_ctx *c, const char *fmt, const char *s, int i)
{
	size_t saved = c->path_len;
	int n = s ? snprintf(c->path + saved, sizeof(c->path) - saved, fmt, s)
		  : snprintf(c->path + saved, sizeof(c->path) - saved, fmt, i);

	c->path_len = n < 0 || saved + (size_t)n >= sizeof(c->path) ? sizeof(c->path) - 1
								    : saved + (size_t)n;
	return saved;
}

size_t json_path_push_key(struct json_ctx *c, const char *key)
{
	return path_append(c, c->path_len ? ".%s" : "%s", key, 0);
}

size_t json_path_push_index(struct json_ctx *c, int index)
{
	return path_append(c, "[%d]", NULL, index);
}

void json_path_pop(struct json_ctx *c, size_t saved)
{
	c->path_len = saved;
	c->path[saved] = '\0';
}

int json_skip(const struct json_ctx *c, int tok)
{
	const jsmntok_t *t = &c->tok[tok];
	int next = tok + 1;

	if (t->type == JSMN_OBJECT)
		for (int i = 0; i < t->size; i++)
			next = json_skip(c, json_skip(c, next));
	else if (t->type == JSMN_ARRAY)
		for (int i = 0; i < t->size; i++)
			next = json_skip(c, next);
	return next;
}

/* A token's text span; jsmn leaves the quotes out of a string's. */
static int span_start(const struct json_ctx *c, int tok)
{
	return c->tok[tok].start - (c->tok[tok].type == JSMN_STRING);
}

static int span_end(const struct json_ctx *c, int tok)
{
	return c->tok[tok].end + (c->tok[tok].type == JSMN_STRING);
}

/* A syntax error names no field: json_check_separators' path is dropped. */
#define syntax_fail(c, ...) (json_path_pop((c), 0), json_fail((c), __VA_ARGS__))

/* Between `from` and `to` there must be only white space around exactly one
 * `sep` (or nothing, when sep is 0). */
static int check_gap(struct json_ctx *c, int from, int to, char sep)
{
	bool seen = false;

	for (int i = from; i < to; i++) {
		char ch = c->js[i];

		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
			continue;
		if (ch != sep || seen)
			return syntax_fail(c, "invalid JSON at byte %d: unexpected '%c'", i, ch);
		seen = true;
	}
	if (sep && !seen)
		return syntax_fail(c, "invalid JSON at byte %d: '%c' expected", to, sep);
	return 0;
}

/* jsmn's strict mode still takes any word starting like a literal
 * ("nope"); a primitive must be true, false, null or a number (RFC 8259 §3). */
static int check_primitive(struct json_ctx *c, int tok)
{
	const jsmntok_t *t = &c->tok[tok];
	const char *p = c->js + t->start;
	int n = t->end - t->start;

	if ((n == 4 && (!memcmp(p, "true", 4) || !memcmp(p, "null", 4))) ||
	    (n == 5 && !memcmp(p, "false", 5)))
		return 0;
	for (int i = 0; i < n; i++)
		if (!strchr("0123456789+-.eE", p[i]) || (i == 0 && !strchr("-0123456789", p[i])))
			return syntax_fail(c, "invalid JSON at byte %d: \"%.*s\" is not a value",
					   t->start, n, p);
	return 0;
}

static void push_key(struct json_ctx *c, int key)
{
	const jsmntok_t *k = &c->tok[key];
	char name[40];

	snprintf(name, sizeof(name), "%.*s", k->end - k->start, c->js + k->start);
	json_path_push_key(c, name);
}

/* jsmn takes {"k": } for an object of one member whose key has no value (the key's
 * size stays 0); the token after the key is then past the ntok of this parse (a
 * stale one of an earlier parse) or the next key. Refused, naming the field. */
static int check_value(struct json_ctx *c, int key)
{
	if (key + 1 < c->ntok && c->tok[key].size)
		return 0;
	push_key(c, key);
	return json_fail(c, "invalid JSON at byte %d: the field has no value", span_end(c, key));
}

/* Walks the tree under `tok`, keeping the JSON path of each value for check_value. */
int json_check_separators(struct json_ctx *c, int tok)
{
	const jsmntok_t *t = &c->tok[tok];
	bool object = t->type == JSMN_OBJECT;
	int children = object ? 2 * t->size : t->type == JSMN_ARRAY ? t->size : 0;
	int prev_end = t->start + 1, child = tok + 1;

	for (int i = 0; i < children; i++) {
		char sep = i == 0 ? 0 : (object && i % 2) ? ':' : ',';
		size_t saved = c->path_len;

		if (child >= c->ntok) /* jsmn counts only the tokens it made: a safeguard */
			return syntax_fail(c, "invalid JSON: the text ends inside a value");
		if (check_gap(c, prev_end, span_start(c, child), sep))
			return -1;
		prev_end = span_end(c, child);
		if (object && i % 2 == 0) { /* a key, a string in strict mode */
			if (check_value(c, child))
				return -1;
			child++;
			continue;
		}
		if (object)
			push_key(c, child - 1);
		else
			json_path_push_index(c, i);
		if (json_check_separators(c, child))
			return -1;
		json_path_pop(c, saved);
		child = json_skip(c, child);
	}
	if (children)
		return check_gap(c, prev_end, t->end - 1, 0);
	if (t->type == JSMN_OBJECT || t->type == JSMN_ARRAY)
		return check_gap(c, t->start + 1, t->end - 1, 0);
	return t->type == JSMN_PRIMITIVE ? check_primitive(c, tok) : 0;
}

static bool token_is(const struct json_ctx *c, int tok, const char *s)
{
	const jsmntok_t *t = &c->tok[tok];
	size_t n = (size_t)(t->end - t->start);

	return strlen(s) == n && !memcmp(c->js + t->start, s, n);
}

static const char *type_name(jsmntype_t type)
{
	switch (type) {
	case JSMN_OBJECT:
		return "an object";
	case JSMN_ARRAY:
		return "an array";
	case JSMN_STRING:
		return "a string";
	default:
		return "a number, boolean or null";
	}
}

static int expect_type(struct json_ctx *c, int tok, jsmntype_t type, const char *what)
{
	if (c->tok[tok].type != type)
		return json_fail(c, "must be %s, not %s", what, type_name(c->tok[tok].type));
	return 0;
}

static const struct json_field *find_field(const struct json_field *f, size_t n,
					   const struct json_ctx *c, int key)
{
	for (size_t i = 0; i < n; i++)
		if (token_is(c, key, f[i].name))
			return &f[i];
	return NULL;
}

int json_object(struct json_ctx *c, int tok, const struct json_field *fields, size_t n, void *obj)
{
	uint64_t seen = 0; /* one bit per entry of `fields` */
	int key = tok + 1;

	if (expect_type(c, tok, JSMN_OBJECT, "an object"))
		return -1;
	for (int i = 0; i < c->tok[tok].size; i++, key = json_skip(c, key + 1)) {
		const jsmntok_t *k = &c->tok[key];
		const struct json_field *f = find_field(fields, n, c, key);
		char name[40];
		size_t saved;
		int rc;

		snprintf(name, sizeof(name), "%.*s", k->end - k->start, c->js + k->start);
		saved = json_path_push_key(c, name);
		if (!f)
			return json_fail(c, "unknown field");
		if (seen & (1ull << (f - fields)))
			return json_fail(c, "field given twice");
		seen |= 1ull << (f - fields);
		rc = f->parse(c, key + 1, obj);
		if (rc)
			return rc;
		json_path_pop(c, saved);
	}
	return 0;
}

int json_array(struct json_ctx *c, int tok, int max, int *count)
{
	if (expect_type(c, tok, JSMN_ARRAY, "an array"))
		return -1;
	if (c->tok[tok].size > max)
		return json_fail(c, "has %d entries, at most %d are allowed", c->tok[tok].size,
				 max);
	*count = c->tok[tok].size;
	return 0;
}

int json_uint(struct json_ctx *c, int tok, uint32_t min, uint32_t max, uint32_t *out)
{
	const jsmntok_t *t = &c->tok[tok];
	uint64_t v = 0;

	if (t->type != JSMN_PRIMITIVE || !(c->js[t->start] >= '0' && c->js[t->start] <= '9'))
		return json_fail(c, "must be a whole number from %u to %u", min, max);
	for (int i = t->start; i < t->end; i++) {
		char ch = c->js[i];

		if (ch < '0' || ch > '9')
			return json_fail(c, "must be a whole number from %u to %u", min, max);
		v = v * 10 + (uint64_t)(ch - '0');
		if (v > max)
			break;
	}
	if (v < min || v > max)
		return json_fail(c, "%.*s is out of range (%u to %u)", t->end - t->start,
				 c->js + t->start, min, max);
	*out = (uint32_t)v;
	return 0;
}

int json_uint64(struct json_ctx *c, int tok, uint64_t min, uint64_t max, uint64_t *out)
{
	const jsmntok_t *t = &c->tok[tok];
	uint64_t v = 0;

	if (t->type != JSMN_PRIMITIVE || !(c->js[t->start] >= '0' && c->js[t->start] <= '9'))
		return json_fail(c, "must be a whole number from %llu to %llu",
				 (unsigned long long)min, (unsigned long long)max);
	for (int i = t->start; i < t->end; i++) {
		char ch = c->js[i];

		if (ch < '0' || ch > '9')
			return json_fail(c, "must be a whole number from %llu to %llu",
					 (unsigned long long)min, (unsigned long long)max);
		v = v * 10 + (uint64_t)(ch - '0');
		if (v > max) /* max < 2^63: the next step cannot wrap */
			break;
	}
	if (v < min || v > max)
		return json_fail(c, "%.*s is out of range (%llu to %llu)", t->end - t->start,
				 c->js + t->start, (unsigned long long)min,
				 (unsigned long long)max);
	*out = v;
	return 0;
}

int json_bool(struct json_ctx *c, int tok, bool *out)
{
	if (c->tok[tok].type == JSMN_PRIMITIVE && token_is(c, tok, "true"))
		*out = true;
	else if (c->tok[tok].type == JSMN_PRIMITIVE && token_is(c, tok, "false"))
		*out = false;
	else
		return json_fail(c, "must be true or false");
	return 0;
}

/* Strings are taken as they stand: an escape sequence is refused rather than
 * half-decoded, and no name or command line needs one. */
int json_string(struct json_ctx *c, int tok, char *out, size_t max_len)
{
	const jsmntok_t *t = &c->tok[tok];
	size_t n = (size_t)(t->end - t->start);

	if (expect_type(c, tok, JSMN_STRING, "a string"))
		return -1;
	if (n > max_len)
		return json_fail(c, "is %zu characters long, at most %zu are allowed", n, max_len);
	if (memchr(c->js + t->start, '\\', n))
		return json_fail(c, "escape sequences are not supported");
	memcpy(out, c->js + t->start, n);
	out[n] = '\0';
	return 0;
}

static bool name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_';
}

int json_name(struct json_ctx *c, int tok, char *out)
{
	if (json_string(c, tok, out, MANIFEST_NAME_MAX))
		return -1;
	if (!out[0])
		return json_fail(c, "must not be empty");
	for (const char *p = out; *p; p++)
		if (!name_char(*p))
			return json_fail(c, "'%s' has a character other than A-Z a-z 0-9 - _", out);
	return 0;
}

int json_enum(struct json_ctx *c, int tok, const char *const *names, int n, int *out)
{
	char list[128];
	size_t len = 0;

	if (expect_type(c, tok, JSMN_STRING, "a string"))
		return -1;
	for (int i = 0; i < n; i++) {
		if (token_is(c, tok, names[i])) {
			*out = i;
			return 0;
		}
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s\"%s\"", i ? ", " : "",
					names[i]);
		if (len >= sizeof(list))
			len = sizeof(list) - 1;
	}
	return json_fail(c, "must be one of %s", list);
}
