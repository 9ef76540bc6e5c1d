/* A queue of due times keyed by small integer ids: a binary min-heap with an
 * index, so the earliest is found in O(1) and an id is added, moved or
 * removed in O(log n). The cores keep the APIC-timer deadlines of blocked
 * vCPUs in one, so the work at each guest exit does not grow with the number
 * of vCPUs (issue: "keep due times in a timer queue"). Pure logic: the
 * caller provides the storage and serializes the calls; host-tested. */
#ifndef KERNEL_TIMERQ_H
#define KERNEL_TIMERQ_H

#include <stdbool.h>
#include <stdint.h>

struct timerq_entry {
	uint64_t due;
	unsigned id;
};

struct timerq {
	struct timerq_entry *heap; /* heap[0] is the earliest */
	int *pos;		   /* pos[id]: its index in heap, -1 when absent */
	unsigned n, cap;	   /* entries, and ids (0 .. cap-1) */
};

/* `heap` and `pos` hold `cap` entries each. */
void timerq_init(struct timerq *q, struct timerq_entry *heap, int *pos, unsigned cap);
/* Adds id with `due`, or moves it there if present. */
void timerq_set(struct timerq *q, unsigned id, uint64_t due);
/* Takes id out, if present. */
void timerq_remove(struct timerq *q, unsigned id);
/* The earliest entry: false when the queue is empty. */
bool timerq_peek(const struct timerq *q, unsigned *id, uint64_t *due);
bool timerq_contains(const struct timerq *q, unsigned id);

#endif
