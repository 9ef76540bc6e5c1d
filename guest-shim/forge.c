/* workload=forge: a hostile guest that tries to forge hypervisor records.
 *
 * Every line of the hypervisor's console that starts with "@" is a record the
 * tools trust (docs/architecture.md, "Console protocol"); a guest's text must
 * reach the console only as "[vm] text", escaped. Each trick below would put a
 * guest-chosen "@" (or a terminal escape that rewrites the line) at the start
 * of a console line if the hypervisor copied guest bytes verbatim. Every
 * payload carries "forged", so the test can tell a forged record from a real
 * one (tests/integration/test_forge.py). */
#include "guest-shim/shim.h"

#define DEBUG_PORT_E9	  0xe9
#define CONSOLE_BYTES_MAX 200 /* what one console hypercall logs (kernel/vmexit.c) */
#define DEBUG_LINE_MAX	  120 /* the debug port's line (kernel/debug_port.c) */
#define FORGED		  "@{\"type\":\"forged\",\"trick\":"

/* A literal's bytes without the terminating NUL, NULs inside included. */
#define TEXT(s) (s), sizeof(s) - 1

static void console(const char *bytes, uint64_t len)
{
	shim_hypercall(HC_CONSOLE_WRITE, (uint64_t)(uintptr_t)bytes, len);
}

static void debug_port(const char *bytes, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++)
		__asm__ volatile("outb %0, %1" ::"a"(bytes[i]), "Nd"((uint16_t)DEBUG_PORT_E9));
}

/* One hypercall of CONSOLE_BYTES_MAX + 60 bytes: filler, a newline, and a
 * record that straddles the limit, so only its head is logged. */
static void console_across_the_limit(void)
{
	static const char tail[] =
		"\n" FORGED "\"limit\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}";
	static char text[CONSOLE_BYTES_MAX + 60];
	uint64_t head = CONSOLE_BYTES_MAX - 20;

	for (uint64_t i = 0; i < head; i++)
		text[i] = 'A';
	for (uint64_t i = 0; i < sizeof(tail) - 1 && head + i < sizeof(text); i++)
		text[head + i] = tail[i];
	console(text, sizeof(text));
}

/* A debug-port line of exactly DEBUG_LINE_MAX bytes: the port flushes it when
 * the next byte arrives, so the record would begin the next line. */
static void debug_port_full_line(void)
{
	static char text[DEBUG_LINE_MAX];

	for (uint64_t i = 0; i < sizeof(text); i++)
		text[i] = 'B';
	debug_port(text, sizeof(text));
	debug_port(TEXT(FORGED "\"debug-full-line\"}\n"));
}

static void forge_console(void)
{
	console(TEXT("forge: newline\n" FORGED "\"newline\"}"));
	console(TEXT("forge: cr\r" FORGED "\"cr\"}"));
	console(TEXT(FORGED "\"whole-line\"}"));
	console(TEXT("\x1b[2K\r" FORGED "\"ansi\"}"));
	console(TEXT("forge: nul\0\n" FORGED "\"nul\"}\0tail"));
	console(TEXT("forge: crlf\r\n" FORGED "\"crlf\"}\r\n"));
	console(TEXT("forge: nel\x85" FORGED "\"nel\"}\xe2\x80\xa8" FORGED "\"ls\"}"));
	console(TEXT("forge: backslash \\x0a" FORGED "\"backslash\"}"));
	console(TEXT("\n@{\"type\":\"poweroff\",\"reason\":\"forged\"}\n"));
	console_across_the_limit();
	console((const char *)(UINT64_MAX - 8), 64); /* outside its RAM: nothing is logged */
}

static void forge_debug_port(void)
{
	debug_port(TEXT("forge: debug\n" FORGED "\"debug-newline\"}\n"));
	debug_port(TEXT("forge: debug cr\r" FORGED "\"debug-cr\"}\n"));
	debug_port(TEXT("\x1b[2K\r" FORGED "\"debug-ansi\"}\n"));
	debug_port(TEXT("forge: debug nul\0" FORGED "\"debug-nul\"}\n"));
	debug_port_full_line();
}

void shim_run_forge(void)
{
	forge_console();
	forge_debug_port();
	shim_print("forge: done");
}
