/* The console: human log lines, and machine-readable records ("@" followed by
 * one JSON object with a "type" field) that the test runner and the benchmark
 * tools parse (design.md, "console"). */
#ifndef KERNEL_LOG_H
#define KERNEL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uart;

/* Sends the console to `uart` (set up already) from the next line on. */
void log_init(const struct uart *uart);
void log_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs text a guest handed over (console hypercall, debug port, UARTs): each
 * piece between newlines becomes one line "[vm] piece", every byte outside
 * printable ASCII escaped as \xNN and a backslash as \\, so that no guest can
 * start a console line (forge a "@" record) or send terminal escapes. A
 * trailing newline ends the last line; it does not add an empty one. */
void log_guest_text(const char *vm, const char *bytes, size_t len);
/* Writes a whole line without taking the console lock: for the panic path. */
void log_write_unlocked(const char *s);

/* A record under construction: record_begin, then fields, then record_emit. */
struct record {
	char buf[1024];
	size_t len;
	bool overflow;
};

void record_begin(struct record *r, const char *type);
void record_str(struct record *r, const char *key, const char *val);
void record_uint(struct record *r, const char *key, uint64_t val);
void record_int(struct record *r, const char *key, int64_t val);
void record_hex(struct record *r, const char *key, uint64_t val);
/* An object {"i": val[i], ...} of the nonzero val[i], i from 0 to n - 1. */
void record_uint_map(struct record *r, const char *key, const uint64_t *val, unsigned n);
void record_bool(struct record *r, const char *key, bool val);
void record_emit(struct record *r);

#endif
