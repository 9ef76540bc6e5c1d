/* Look-ups in the boot information: modules by name, command-line words. */
#include <string.h>

#include "kernel/bootinfo.h"

struct boot_info boot_info;

const struct boot_module *boot_find_module(const struct boot_info *bi, const char *name)
{
	for (unsigned i = 0; i < bi->n_modules; i++)
		if (!strcmp(bi->modules[i].name, name))
			return &bi->modules[i];
	return NULL;
}

/* Finds `word` as a whole space-separated word, or as the key of `word=...`;
 * returns a pointer just past the key, or NULL. */
static const char *cmdline_find(const char *s, const char *word)
{
	size_t n = strlen(word);

	while (*s) {
		while (*s == ' ')
			s++;
		if (!strncmp(s, word, n) && (s[n] == ' ' || s[n] == '=' || s[n] == '\0'))
			return s + n;
		while (*s && *s != ' ')
			s++;
	}
	return NULL;
}

bool boot_cmdline_has(const struct boot_info *bi, const char *word)
{
	return cmdline_find(bi->cmdline, word) != NULL;
}

const char *boot_cmdline_value(const struct boot_info *bi, const char *key, char *buf,
			       unsigned size)
{
	const char *v = cmdline_find(bi->cmdline, key);
	unsigned i = 0;

	if (!v || *v != '=' || !size)
		return NULL;
	for (v++; *v && *v != ' ' && i + 1 < size; v++)
		buf[i++] = *v;
	buf[i] = '\0';
	return buf;
}
