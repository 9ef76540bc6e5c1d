/* virtio-net workloads (virtio 1.1 §5.1) between two VMs on one switch,
 * driven by vCPU 0:
 *   net-flood  the sender sends `n=` frames of `len=` bytes to the peer, the
 *              receiver checks each frame's payload and that the sequence
 *              numbers come in order
 *   net-ping   `n=` round trips of a `len=` frame: the receiver echoes each
 *              back to its source; the sender times them
 * `role=send|recv`, or the VM with the lower MAC sends when `peer=` is
 * given. The receiver says READY (to `peer=`, else broadcast) every
 * NET_READY_MS until the first frame comes, so that neither VM needs to
 * start first and the switch learns its address; a sender without `peer=`
 * takes the READY's source. Every frame carries a virtio-net header first
 * (§5.1.6: 12 bytes with VERSION_1), then Ethernet, NET_ETHERTYPE, a kind,
 * a sequence number, and bytes that depend on both and their position. */
#include "guest-shim/virtio.h"

#define NET_RX_BUFS	   64
#define NET_TX_SLOTS	   32
#define NET_BUF_BYTES	   2048	  /* header and the largest frame: §5.1.6.3.1 wants 1526 */
#define NET_ETHERTYPE	   0x88b5 /* IEEE 802 local experimental */
#define NET_MIN_FRAME	   60
#define NET_ETH_HDR	   14
#define NET_KIND_OFF	   14
#define NET_MAGIC_OFF	   15
#define NET_SEQ_OFF	   18
#define NET_BODY_OFF	   26
#define NET_MAGIC	   "cvn"
#define NET_READY_MS	   50
#define NET_READY_FIRST_MS 100
#define NET_WAIT_MS	   10000 /* for the peer, and between frames */
#define NET_ECHO_WAIT_MS   1000	 /* then a ping counts as lost */
#define NET_SAMPLES	   4096
#define NET_LOG_BAD	   8

enum net_kind { NET_READY = 1, NET_DATA, NET_PING, NET_ECHO };

struct net_ctx {
	struct virtio_dev dev;
	struct vq *rx, *tx;
	uint8_t mac[6], peer[6];
	bool sender, have_peer, started;
	uint8_t *rxbuf, *txbuf;
	uint16_t tx_free[NET_TX_SLOTS];
	unsigned tx_nfree, tx_slots;
	uint32_t len;
	uint64_t n, sent, received, bad, expected, kicks;
	/* net-ping: the echo awaited */
	bool ping, echoed;
	uint64_t await_seq;
};

static struct net_ctx net;
static uint64_t rtt[NET_SAMPLES];
static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* ---- MAC addresses and frames ---- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "52:54:00:12:34:56": six pairs of hex digits, colon-separated. */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++, s += 3) {
		int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);

		if (lo < 0 || (i < 5 && s[2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return s[-1] == '\0' || s[-1] == ' ';
}

static bool mac_eq(const volatile uint8_t *a, const uint8_t *b)
{
	for (int i = 0; i < 6; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static int mac_cmp(const uint8_t *a, const uint8_t *b)
{
	for (int i = 0; i < 6; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

static uint8_t body_byte(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 7 + i);
}

static void put_le64(volatile uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

static uint64_t get_le64(const volatile uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void build_frame(volatile uint8_t *f, const uint8_t *dst, const uint8_t *src,
			enum net_kind kind, uint64_t seq, uint32_t len)
{
	for (int i = 0; i < 6; i++) {
		f[i] = dst[i];
		f[6 + i] = src[i];
	}
	f[12] = NET_ETHERTYPE >> 8;
	f[13] = NET_ETHERTYPE & 0xff;
	f[NET_KIND_OFF] = (uint8_t)kind;
	for (int i = 0; i < 3; i++)
		f[NET_MAGIC_OFF + i] = (uint8_t)NET_MAGIC[i];
	put_le64(f + NET_SEQ_OFF, seq);
	for (uint32_t i = NET_BODY_OFF; i < len; i++)
		f[i] = body_byte(seq, i);
}

/* Ours: our EtherType and magic, for us or for everyone. */
static bool frame_is_ours(const struct net_ctx *c, const volatile uint8_t *f, uint32_t len)
{
	if (len < NET_MIN_FRAME || f[12] != NET_ETHERTYPE >> 8 || f[13] != (NET_ETHERTYPE & 0xff))
		return false;
	for (int i = 0; i < 3; i++)
		if (f[NET_MAGIC_OFF + i] != (uint8_t)NET_MAGIC[i])
			return false;
	return mac_eq(f, c->mac) || mac_eq(f, broadcast);
}

static bool body_ok(const volatile uint8_t *f, uint32_t len)
{
	uint64_t seq = get_le64(f + NET_SEQ_OFF);

	for (uint32_t i = NET_BODY_OFF; i < len; i++)
		if (f[i] != body_byte(seq, i))
			return false;
	return len <= VIO_ETH_MAX_FRAME;
}

/* ---- transmit ---- */

static void tx_reap(struct net_ctx *c)
{
	uint64_t slot;
	uint32_t len;

	while (vq_get_used(c->tx, &slot, &len)) {
		if (slot >= c->tx_slots)
			vio_fatal("net: a TX completion for no slot:", slot, VIO_EXIT_FAIL);
		c->tx_free[c->tx_nfree++] = (uint16_t)slot;
	}
}

/* Two descriptors, the header and the frame (§5.1.6.2: any layout is fine
 * with VERSION_1); the kick is the caller's, once for a batch. */
static void tx_queue(struct net_ctx *c, const uint8_t *dst, enum net_kind kind, uint64_t seq)
{
	uint16_t slot = c->tx_free[--c->tx_nfree];
	uint8_t *hdr = c->txbuf + (uint64_t)slot * NET_BUF_BYTES;
	struct vio_buf b[2] = {{(uintptr_t)hdr, VIRTIO_NET_HDR_SIZE},
			       {(uintptr_t)hdr + VIRTIO_NET_HDR_SIZE, c->len}};

	for (int i = 0; i < VIRTIO_NET_HDR_SIZE; i++) /* no offloads, no GSO */
		hdr[i] = 0;
	build_frame(hdr + VIRTIO_NET_HDR_SIZE, dst, c->mac, kind, seq, c->len);
	if (!vq_add(c->tx, b, 2, 0, slot))
		vio_fatal("net: the TX queue is full", ~0ull, VIO_EXIT_FAIL);
	c->sent += kind != NET_READY; /* the test's frames only */
}

static void tx_wait_slot(struct net_ctx *c)
{
	uint64_t deadline = vio_rdtsc() + vio_ms_to_tsc(NET_WAIT_MS);

	for (tx_reap(c); !c->tx_nfree; tx_reap(c)) {
		if (vio_rdtsc() > deadline) {
			shim_report(HR_NET_SENT, c->sent);
			vio_fatal("net: TX did not complete, sent", c->sent, VIO_EXIT_FAIL);
		}
		vio_pause();
	}
}

static void tx_send(struct net_ctx *c, const uint8_t *dst, enum net_kind kind, uint64_t seq)
{
	tx_wait_slot(c);
	tx_queue(c, dst, kind, seq);
	vq_kick(c->tx);
}

static void tx_drain(struct net_ctx *c)
{
	while (c->tx_nfree < c->tx_slots) {
		tx_wait_slot(c);
		tx_reap(c);
		if (c->tx_nfree < c->tx_slots)
			vio_pause();
	}
}

/* ---- receive ---- */

static void rx_post(struct net_ctx *c, uint16_t i)
{
	struct vio_buf b = {(uintptr_t)c->rxbuf + (uint64_t)i * NET_BUF_BYTES, NET_BUF_BYTES};

	if (!vq_add(c->rx, &b, 0, 1, i))
		vio_fatal("net: the RX queue is full", ~0ull, VIO_EXIT_FAIL);
}

static void count_bad(struct net_ctx *c, const char *why, uint64_t seq)
{
	if (c->bad++ < NET_LOG_BAD)
		vio_log(why, seq);
}

static void on_data(struct net_ctx *c, const volatile uint8_t *f, uint32_t len)
{
	uint64_t seq = get_le64(f + NET_SEQ_OFF);

	c->received++;
	if (!body_ok(f, len))
		count_bad(c, "net: damaged frame, seq", seq);
	else if (seq != c->expected)
		count_bad(c, "net: out of order, seq", seq);
	c->expected = seq + 1;
}

/* The receiver's side of a ping: an echo of the same length and sequence
 * number back to where it came from. */
static void on_ping(struct net_ctx *c, const volatile uint8_t *f, uint32_t len)
{
	uint8_t src[6];

	for (int i = 0; i < 6; i++)
		src[i] = f[6 + i];
	c->received++;
	if (!body_ok(f, len))
		count_bad(c, "net: damaged ping, seq", get_le64(f + NET_SEQ_OFF));
	c->len = len;
	tx_send(c, src, NET_ECHO, get_le64(f + NET_SEQ_OFF));
}

static void on_echo(struct net_ctx *c, const volatile uint8_t *f, uint32_t len)
{
	if (get_le64(f + NET_SEQ_OFF) != c->await_seq || !body_ok(f, len)) {
		count_bad(c, "net: unexpected echo, seq", get_le64(f + NET_SEQ_OFF));
		return;
	}
	c->echoed = true;
}

/* The sender's start signal; its source is the peer unless one was given. */
static void on_ready(struct net_ctx *c, const volatile uint8_t *f)
{
	if (!c->have_peer)
		for (int i = 0; i < 6; i++)
			c->peer[i] = f[6 + i];
	c->have_peer = c->started = true;
}

static void on_frame(struct net_ctx *c, const volatile uint8_t *f, uint32_t len)
{
	uint8_t kind = f[NET_KIND_OFF];

	if (!frame_is_ours(c, f, len))
		return;
	if (kind == NET_READY && c->sender)
		on_ready(c, f);
	else if (kind == NET_DATA && !c->sender)
		on_data(c, f, len);
	else if (kind == NET_PING && !c->sender)
		on_ping(c, f, len);
	else if (kind == NET_ECHO && c->sender)
		on_echo(c, f, len);
	if (!c->sender && (kind == NET_DATA || kind == NET_PING))
		c->started = true;
}

/* §5.1.6.4: the header, then the frame; with MRG_RXBUF num_buffers says
 * how many buffers the packet took, and ours always fit in one. */
static void rx_one(struct net_ctx *c, const volatile uint8_t *buf, uint32_t len)
{
	uint16_t nbuf = (uint16_t)(buf[VIRTIO_NET_HDR_NUM_BUFFERS] |
				   buf[VIRTIO_NET_HDR_NUM_BUFFERS + 1] << 8);

	if (len < VIRTIO_NET_HDR_SIZE + NET_ETH_HDR || len > NET_BUF_BYTES)
		count_bad(c, "net: bad receive length", len);
	else if (virtio_has(&c->dev, VIRTIO_NET_F_MRG_RXBUF) && nbuf != 1)
		count_bad(c, "net: num_buffers is not 1:", nbuf);
	else
		on_frame(c, buf + VIRTIO_NET_HDR_SIZE, len - VIRTIO_NET_HDR_SIZE);
}

/* Takes every received buffer, handles it, posts it again; one kick. */
static bool rx_poll(struct net_ctx *c)
{
	uint64_t i;
	uint32_t len;
	bool any = false;

	while (vq_get_used(c->rx, &i, &len)) {
		if (i >= NET_RX_BUFS)
			vio_fatal("net: an RX completion for no buffer:", i, VIO_EXIT_FAIL);
		rx_one(c, c->rxbuf + i * NET_BUF_BYTES, len);
		rx_post(c, (uint16_t)i);
		any = true;
	}
	if (any)
		vq_kick(c->rx);
	tx_reap(c);
	return any;
}

/* ---- set-up ---- */

static void net_roles(struct net_ctx *c, const char *cmdline)
{
	const char *peer = shim_arg_value(cmdline, "peer");

	c->have_peer = peer && parse_mac(peer, c->peer);
	if (peer && !c->have_peer)
		vio_fatal("net: cannot parse peer=", ~0ull, VIO_EXIT_USAGE);
	if (shim_arg_is(cmdline, "role", "send") || shim_arg_is(cmdline, "role", "recv"))
		c->sender = shim_arg_is(cmdline, "role", "send");
	else if (c->have_peer)
		c->sender = mac_cmp(c->mac, c->peer) < 0;
	else
		vio_fatal("net: give role=send|recv or peer=MAC", ~0ull, VIO_EXIT_USAGE);
}

static void net_device(struct net_ctx *c, const char *cmdline)
{
	int slot = pci_find_virtio(VIRTIO_ID_NET, (unsigned)shim_arg_uint(cmdline, "dev", 0));
	uint64_t want = VIO_FEATURE(VIRTIO_NET_F_MAC) | VIO_FEATURE(VIRTIO_NET_F_STATUS) |
			VIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF);

	if (slot < 0 || !virtio_open(&c->dev, (unsigned)slot, VIRTIO_ID_NET) ||
	    !virtio_start(&c->dev, want, shim_arg_uint(cmdline, "event_idx", 1) != 0, 2,
			  (unsigned)shim_arg_uint(cmdline, "qsize", 128), 0))
		vio_fatal("net: no virtio-net device started", ~0ull, VIO_EXIT_FAIL);
	if (!virtio_has(&c->dev, VIRTIO_NET_F_MAC))
		vio_fatal("net: the device has no MAC address", ~0ull, VIO_EXIT_FAIL);
	for (int i = 0; i < 6; i++)
		c->mac[i] = virtio_cfg8(&c->dev, VIRTIO_NET_CFG_MAC + (unsigned)i);
	if (virtio_has(&c->dev, VIRTIO_NET_F_STATUS) &&
	    !(virtio_cfg16(&c->dev, VIRTIO_NET_CFG_STATUS) & VIRTIO_NET_S_LINK_UP))
		vio_log("net: the link is down", ~0ull);
	c->rx = &c->dev.q[VIRTIO_NET_Q_RX];
	c->tx = &c->dev.q[VIRTIO_NET_Q_TX];
}

static void net_buffers(struct net_ctx *c)
{
	unsigned rx = c->rx->size < NET_RX_BUFS ? c->rx->size : NET_RX_BUFS;

	c->rxbuf = vio_alloc((uint64_t)NET_RX_BUFS * NET_BUF_BYTES, VIO_PAGE);
	c->txbuf = vio_alloc((uint64_t)NET_TX_SLOTS * NET_BUF_BYTES, VIO_PAGE);
	c->tx_slots = c->tx->size / 2 < NET_TX_SLOTS ? c->tx->size / 2 : NET_TX_SLOTS;
	if (!c->tx_slots)
		c->tx_slots = 1;
	for (unsigned i = 0; i < c->tx_slots; i++)
		c->tx_free[i] = (uint16_t)i;
	c->tx_nfree = c->tx_slots;
	for (unsigned i = 0; i < rx; i++)
		rx_post(c, (uint16_t)i);
	vq_publish(c->rx);
}

static struct net_ctx *net_setup(const char *cmdline, uint64_t ram_bytes, bool ping)
{
	struct net_ctx *c = &net;
	uint64_t len = shim_arg_uint(cmdline, "len", ping ? NET_MIN_FRAME : 1000);

	vio_mem_init(ram_bytes);
	net_device(c, cmdline);
	net_roles(c, cmdline);
	net_buffers(c);
	/* §3.1.1 step 7: the receive queue is full before the device goes live,
	 * so no frame ever finds it live without buffers. */
	virtio_driver_ok(&c->dev);
	c->ping = ping;
	c->len = len < NET_MIN_FRAME	   ? NET_MIN_FRAME
		 : len > VIO_ETH_MAX_FRAME ? VIO_ETH_MAX_FRAME
					   : (uint32_t)len;
	c->n = shim_arg_uint(cmdline, "n", ping ? 100 : 10000);
	return c;
}

/* ---- the two roles ---- */

/* READY every NET_READY_MS until the first frame of the test arrives. The
 * first waits NET_READY_FIRST_MS: a READY that finds the sender's device
 * not live yet is lost (the switch counts it in drop_down). */
static void recv_wait_start(struct net_ctx *c)
{
	uint64_t deadline = vio_rdtsc() + vio_ms_to_tsc(NET_WAIT_MS);
	uint64_t next = vio_rdtsc() + vio_ms_to_tsc(NET_READY_FIRST_MS);

	while (!c->started) {
		uint64_t now = vio_rdtsc();

		if (now > deadline)
			vio_fatal("net: no frame from the sender", ~0ull, VIO_EXIT_FAIL);
		if (now >= next && c->tx_nfree) {
			tx_send(c, c->have_peer ? c->peer : broadcast, NET_READY, 0);
			next = now + vio_ms_to_tsc(NET_READY_MS);
		}
		if (!rx_poll(c))
			vio_pause();
	}
}

/* Receives until n frames came, or none for NET_WAIT_MS. */
static void recv_run(struct net_ctx *c)
{
	uint64_t kicks = c->rx->kicks + c->tx->kicks, last = vio_rdtsc();

	shim_report(HR_MARK, 0);
	recv_wait_start(c);
	while (c->received < c->n) {
		if (rx_poll(c))
			last = vio_rdtsc();
		else if (vio_rdtsc() - last > vio_ms_to_tsc(NET_WAIT_MS)) {
			vio_log("net: the sender went quiet, received", c->received);
			break;
		} else
			vio_pause();
	}
	tx_drain(c);
	shim_report(HR_MARK, 1);
	c->kicks = c->rx->kicks + c->tx->kicks - kicks;
}

static void send_wait_ready(struct net_ctx *c)
{
	uint64_t deadline = vio_rdtsc() + vio_ms_to_tsc(NET_WAIT_MS);

	while (!c->started) {
		if (vio_rdtsc() > deadline)
			vio_fatal("net: no READY from the receiver", ~0ull, VIO_EXIT_FAIL);
		if (!rx_poll(c))
			vio_pause();
	}
}

static void flood(struct net_ctx *c)
{
	while (c->sent < c->n) {
		tx_wait_slot(c);
		while (c->tx_nfree && c->sent < c->n)
			tx_queue(c, c->peer, NET_DATA, c->sent);
		vq_kick(c->tx);
		rx_poll(c); /* READYs still in flight */
	}
}

static void ping_one(struct net_ctx *c, struct vio_samples *s, uint64_t seq)
{
	uint64_t start = vio_rdtsc(), deadline = start + vio_ms_to_tsc(NET_ECHO_WAIT_MS);

	c->await_seq = seq;
	c->echoed = false;
	tx_send(c, c->peer, NET_PING, seq);
	while (!c->echoed) {
		if (vio_rdtsc() > deadline) {
			count_bad(c, "net: no echo, seq", seq);
			return;
		}
		if (!rx_poll(c))
			vio_pause();
	}
	c->received++;
	vio_sample(s, vio_rdtsc() - start);
}

static void send_run(struct net_ctx *c)
{
	struct vio_samples s = {rtt, NET_SAMPLES, 0, 1};
	uint64_t kicks;

	send_wait_ready(c);
	kicks = c->rx->kicks + c->tx->kicks;
	c->sent = 0;
	shim_report(HR_MARK, 0);
	if (c->ping)
		for (uint64_t i = 0; i < c->n; i++)
			ping_one(c, &s, i);
	else
		flood(c);
	tx_drain(c);
	shim_report(HR_MARK, 1);
	c->kicks = c->rx->kicks + c->tx->kicks - kicks;
	if (c->ping)
		shim_report(HR_NET_RTT_P50_NS,
			    vio_tsc_to_ns(vio_percentile(s.v, vio_samples_sort(&s), 50)));
}

void shim_run_net(const char *cmdline, uint64_t ram_bytes, uint32_t vcpu, bool ping)
{
	struct net_ctx *c;

	if (vcpu != 0) {
		if (vio_is_irq_vcpu(vcpu))
			vio_wait_for_done();
		return;
	}
	c = net_setup(cmdline, ram_bytes, ping);
	vio_irqs_on(true);
	if (c->sender)
		send_run(c);
	else
		recv_run(c);
	vio_irqs_on(false);
	shim_report(HR_NET_SENT, c->sent);
	shim_report(HR_NET_RECEIVED, c->received);
	shim_report(HR_NET_BAD, c->bad);
	shim_report(HR_NET_KICKS, c->kicks);
	vio_workload_done();
}
