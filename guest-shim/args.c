/* Reading `key=value` words from the command line the manifest gave. */
#include "guest-shim/shim.h"

/* The value of `key=` in the command line, up to the next space, or NULL. */
const char *shim_arg_value(const char *s, const char *key)
{
	while (*s) {
		const char *k = key, *p = s;

		while (*k && *p == *k)
			k++, p++;
		if (!*k && *p == '=')
			return p + 1;
		while (*s && *s != ' ')
			s++;
		while (*s == ' ')
			s++;
	}
	return 0;
}

/* The decimal number at `v`, or `def` when there is none. */
static uint64_t parse_uint(const char *v, uint64_t def)
{
	uint64_t n = 0;

	if (!v || *v < '0' || *v > '9')
		return def;
	for (; *v >= '0' && *v <= '9'; v++)
		n = n * 10 + (uint64_t)(*v - '0');
	return n;
}

uint64_t shim_arg_uint(const char *cmdline, const char *key, uint64_t def)
{
	return parse_uint(shim_arg_value(cmdline, key), def);
}

uint64_t shim_arg_list_uint(const char *cmdline, const char *key, unsigned index, uint64_t def)
{
	const char *v = shim_arg_value(cmdline, key);

	if (!v)
		return def;
	/* up to the element `index`, or the last one */
	for (; index; index--) {
		const char *p = v;

		while (*p >= '0' && *p <= '9')
			p++;
		if (*p != ',')
			break;
		v = p + 1;
	}
	return parse_uint(v, def);
}

bool shim_arg_is(const char *cmdline, const char *key, const char *value)
{
	const char *v = shim_arg_value(cmdline, key);

	if (!v)
		return false;
	while (*value && *v == *value)
		v++, value++;
	return !*value && (*v == ' ' || *v == '\0');
}
