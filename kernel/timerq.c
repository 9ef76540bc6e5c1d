/* The timer queue (kernel/timerq.h): a binary min-heap on `due`, with each
 * id's position kept in pos[] so it can be moved or removed in place. */
#include "kernel/timerq.h"

void timerq_init(struct timerq *q, struct timerq_entry *heap, int *pos, unsigned cap)
{
	q->heap = heap;
	q->pos = pos;
	q->n = 0;
	q->cap = cap;
	for (unsigned i = 0; i < cap; i++)
		pos[i] = -1;
}

static void place(struct timerq *q, unsigned i, struct timerq_entry e)
{
	q->heap[i] = e;
	q->pos[e.id] = (int)i;
}

/* Moves the entry at i towards the root while it is earlier than its parent. */
static void sift_up(struct timerq *q, unsigned i)
{
	struct timerq_entry e = q->heap[i];

	while (i > 0 && e.due < q->heap[(i - 1) / 2].due) {
		place(q, i, q->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(q, i, e);
}

/* Moves the entry at i towards the leaves while a child is earlier. */
static void sift_down(struct timerq *q, unsigned i)
{
	struct timerq_entry e = q->heap[i];

	for (;;) {
		unsigned child = 2 * i + 1;

		if (child >= q->n)
			break;
		if (child + 1 < q->n && q->heap[child + 1].due < q->heap[child].due)
			child++;
		if (q->heap[child].due >= e.due)
			break;
		place(q, i, q->heap[child]);
		i = child;
	}
	place(q, i, e);
}

void timerq_set(struct timerq *q, unsigned id, uint64_t due)
{
	int at;

	if (id >= q->cap)
		return;
	at = q->pos[id];
	if (at < 0) {
		place(q, q->n++, (struct timerq_entry){due, id});
		sift_up(q, q->n - 1);
		return;
	}
	q->heap[at].due = due;
	sift_up(q, (unsigned)at);
	sift_down(q, (unsigned)q->pos[id]);
}

void timerq_remove(struct timerq *q, unsigned id)
{
	struct timerq_entry moved;
	int at;

	if (id >= q->cap || (at = q->pos[id]) < 0)
		return;
	q->pos[id] = -1;
	if ((unsigned)at == --q->n)
		return;
	moved = q->heap[q->n]; /* the last entry fills the hole */

	place(q, (unsigned)at, moved);
	sift_up(q, (unsigned)at);
	sift_down(q, (unsigned)q->pos[moved.id]);
}

bool timerq_peek(const struct timerq *q, unsigned *id, uint64_t *due)
{
	if (!q->n)
		return false;
	*id = q->heap[0].id;
	*due = q->heap[0].due;
	return true;
}

bool timerq_contains(const struct timerq *q, unsigned id)
{
	return id < q->cap && q->pos[id] >= 0;
}
