/* vsnprintf for the hypervisor: the small subset of C99 7.19.6.1 that the
 * log and the JSON console lines need. Output is always NUL-terminated when
 * size > 0; the return value is the length the full output would have had. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width, int left, char pad)
{
	int fill = width > (int)n ? width - (int)n : 0;

	if (!left)
		while (fill-- > 0)
			put(o, pad);
	while (n--)
		put(o, *s++);
	if (left)
		while (fill-- > 0)
			put(o, ' ');
}

static size_t utoa(char *tmp, uint64_t v, unsigned base, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char rev[24];
	size_t n = 0, i;

	do {
		rev[n++] = digits[v % base];
		v /= base;
	} while (v);
	for (i = 0; i < n; i++)
		tmp[i] = rev[n - 1 - i];
	return n;
}

/* Reads an integer argument of the length given by the modifier count. */
static uint64_t arg_unsigned(va_list *ap, int lng)
{
	if (lng >= 2)
		return va_arg(*ap, unsigned long long);
	if (lng == 1)
		return va_arg(*ap, unsigned long);
	return va_arg(*ap, unsigned int);
}

static int64_t arg_signed(va_list *ap, int lng)
{
	if (lng >= 2)
		return va_arg(*ap, long long);
	if (lng == 1)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

static void format_number(struct out *o, char conv, va_list *ap, int lng, int width, int left,
			  char pad)
{
	char tmp[26];
	size_t n;

	if (conv == 'd' || conv == 'i') {
		int64_t v = arg_signed(ap, lng);
		uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

		n = 0;
		if (v < 0)
			tmp[n++] = '-';
		n += utoa(tmp + n, mag, 10, 0);
	} else if (conv == 'p') {
		tmp[0] = '0';
		tmp[1] = 'x';
		n = 2 + utoa(tmp + 2, (uintptr_t)va_arg(*ap, void *), 16, 0);
	} else {
		unsigned base = conv == 'u' ? 10 : 16;

		n = utoa(tmp, arg_unsigned(ap, lng), base, conv == 'X');
	}
	put_padded(o, tmp, n, width, left, pad);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size, 0};
	va_list args;

	va_copy(args, ap);
	for (; *fmt; fmt++) {
		int width = 0, left = 0, lng = 0, precision = -1;
		char pad = ' ';

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		for (; *fmt == '-' || *fmt == '0'; fmt++) {
			if (*fmt == '-')
				left = 1;
			else
				pad = '0';
		}
		for (; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + (*fmt - '0');
		if (*fmt == '.') { /* precision: only meaningful for %s here */
			precision = 0;
			if (*++fmt == '*') {
				precision = va_arg(args, int);
				fmt++;
			}
			for (; *fmt >= '0' && *fmt <= '9'; fmt++)
				precision = precision * 10 + (*fmt - '0');
		}
		for (; *fmt == 'l' || *fmt == 'z'; fmt++)
			lng += *fmt == 'z' ? 2 : 1;
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(args, const char *);

			if (!s)
				s = "(null)";
			put_padded(&o, s, precision < 0 ? strlen(s) : strnlen(s, (size_t)precision),
				   width, left, ' ');
			break;
		}
		case 'c':
			put(&o, (char)va_arg(args, int));
			break;
		case 'd':
		case 'i':
		case 'u':
		case 'x':
		case 'X':
		case 'p':
			format_number(&o, *fmt, &args, lng, width, left, pad);
			break;
		case '%':
			put(&o, '%');
			break;
		default: /* unknown conversion: print it as it stands */
			put(&o, '%');
			if (!*fmt)
				goto done;
			put(&o, *fmt);
		}
	}
done:
	va_end(args);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
