/* Freestanding subset of <stdio.h>: formatting into buffers only.
 * Supported conversions: %d %i %u %x %X %c %s %p %% with the l, ll and z
 * length modifiers, a field width, the 0 and - flags, and a precision (.N or
 * .*) for %s. */
#ifndef LIB_STDIO_H
#define LIB_STDIO_H

#include <stdarg.h>
#include <stddef.h>

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
