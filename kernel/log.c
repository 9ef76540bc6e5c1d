/* Console output on the UART kernel/console.c chose (COM1 by default). One
 * lock serializes whole lines, so lines from several CPUs never interleave and
 * every record stays parseable. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "drivers/uart16550.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"

static struct spinlock console_lock = SPINLOCK_INIT;
static const struct uart *console_uart; /* NULL until log_init: output is dropped */

void log_init(const struct uart *uart)
{
	uint64_t flags = spin_lock_irqsave(&console_lock);

	console_uart = uart;
	spin_unlock_irqrestore(&console_lock, flags);
}

static void console_putc(char c)
{
	if (console_uart)
		uart_putc(console_uart, c);
}

void log_write_unlocked(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			console_putc('\r');
		console_putc(*s);
	}
}

static void log_write_line(const char *s)
{
	uint64_t flags = spin_lock_irqsave(&console_lock);

	log_write_unlocked(s);
	spin_unlock_irqrestore(&console_lock, flags);
}

/* One byte of guest text: printable ASCII as it is, a backslash doubled, and
 * everything else (control characters such as \n, \r, ESC, NUL, DEL, and bytes
 * of 0x80 and above) as \xNN, so a guest can neither end the line nor send
 * the terminal an escape sequence. */
static void put_guest_byte(unsigned char c)
{
	static const char digits[] = "0123456789abcdef";

	if (c == '\\') {
		console_putc('\\');
		console_putc('\\');
	} else if (c < 0x20 || c >= 0x7f) {
		console_putc('\\');
		console_putc('x');
		console_putc(digits[c >> 4]);
		console_putc(digits[c & 15]);
	} else {
		console_putc((char)c);
	}
}

/* "[vm] " and one guest line, escaped: the line starts with the prefix, never
 * with a character the guest chose. */
static void put_guest_line(const char *vm, const char *bytes, size_t len)
{
	log_write_unlocked("[");
	log_write_unlocked(vm);
	log_write_unlocked("] ");
	for (size_t i = 0; i < len; i++)
		put_guest_byte((unsigned char)bytes[i]);
	log_write_unlocked("\n");
}

void log_guest_text(const char *vm, const char *bytes, size_t len)
{
	uint64_t flags = spin_lock_irqsave(&console_lock);
	size_t start = 0;

	do {
		const char *nl = memchr(bytes + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - bytes) : len;

		put_guest_line(vm, bytes + start, end - start);
		start = end + 1;
	} while (start < len);
	spin_unlock_irqrestore(&console_lock, flags);
}

void log_printf(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_write_line(line);
}

static void record_append(struct record *r, const char *s, size_t n)
{
	if (r->len + n + 3 > sizeof(r->buf)) { /* keep room for "}\n\0" */
		r->overflow = true;
		return;
	}
	memcpy(r->buf + r->len, s, n);
	r->len += n;
}

static void record_key(struct record *r, const char *key)
{
	record_append(r, ",\"", 2);
	record_append(r, key, strlen(key));
	record_append(r, "\":", 2);
}

/* JSON string escaping (RFC 8259 §7): quote, backslash and control characters. */
static void record_quoted(struct record *r, const char *s)
{
	record_append(r, "\"", 1);
	for (; *s; s++) {
		char esc[8];
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			record_append(r, esc, 2);
		} else if (c < 0x20) {
			record_append(r, esc, (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c));
		} else {
			record_append(r, s, 1);
		}
	}
	record_append(r, "\"", 1);
}

void record_begin(struct record *r, const char *type)
{
	r->len = 0;
	r->overflow = false;
	record_append(r, "@{\"type\":", 9);
	record_quoted(r, type);
}

void record_str(struct record *r, const char *key, const char *val)
{
	record_key(r, key);
	record_quoted(r, val);
}

void record_uint(struct record *r, const char *key, uint64_t val)
{
	char num[24];

	record_key(r, key);
	record_append(r, num, (size_t)snprintf(num, sizeof(num), "%llu", (unsigned long long)val));
}

void record_int(struct record *r, const char *key, int64_t val)
{
	char num[24];

	record_key(r, key);
	record_append(r, num, (size_t)snprintf(num, sizeof(num), "%lld", (long long)val));
}

void record_hex(struct record *r, const char *key, uint64_t val)
{
	char num[24];

	snprintf(num, sizeof(num), "0x%llx", (unsigned long long)val);
	record_str(r, key, num);
}

void record_uint_map(struct record *r, const char *key, const uint64_t *val, unsigned n)
{
	char num[48];
	bool first = true;

	record_key(r, key);
	record_append(r, "{", 1);
	for (unsigned i = 0; i < n; i++) {
		if (!val[i])
			continue;
		record_append(r, num,
			      (size_t)snprintf(num, sizeof(num), "%s\"%u\":%llu", first ? "" : ",",
					       i, (unsigned long long)val[i]));
		first = false;
	}
	record_append(r, "}", 1);
}

void record_bool(struct record *r, const char *key, bool val)
{
	record_key(r, key);
	record_append(r, val ? "true" : "false", val ? 4 : 5);
}

void record_emit(struct record *r)
{
	if (r->overflow) /* never emit a truncated, unparseable record */
		record_begin(r, "record_overflow");
	memcpy(r->buf + r->len, "}\n", 3);
	log_write_line(r->buf);
}
