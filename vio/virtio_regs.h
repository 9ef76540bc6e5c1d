/* virtio 1.x constants (OASIS virtio v1.1, cited by section): the split ring
 * layout, feature bits, device status, and the PCI transport's capability and
 * register layout. Constants only: guest-shim's drivers include it too. */
#ifndef VIO_VIRTIO_REGS_H
#define VIO_VIRTIO_REGS_H

/* §2.1 device status */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER	  0x02
#define VIRTIO_STATUS_DRIVER_OK	  0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED	  0x80

/* §6 reserved feature bits */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

/* §2.6 split virtqueues: descriptor (16 bytes), available and used rings */
#define VIRTQ_DESC_F_NEXT	   1
#define VIRTQ_DESC_F_WRITE	   2
#define VIRTQ_DESC_F_INDIRECT	   4
#define VIRTQ_DESC_SIZE		   16
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	   1
#define VIRTQ_USED_ELEM_SIZE	   8
/* avail: flags(2) idx(2) ring[n](2 each) used_event(2)
 * used:  flags(2) idx(2) ring[n](8 each) avail_event(2) */
#define VIRTQ_AVAIL_RING(i) (4 + 2 * (uint64_t)(i))
#define VIRTQ_USED_RING(i)  (4 + 8 * (uint64_t)(i))
#define VIRTQ_MAX_SIZE	    32768

/* §4.1.2 PCI IDs: modern devices are 0x1040 + the device type */
#define VIRTIO_PCI_VENDOR      0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040
#define VIRTIO_ID_NET	       1
#define VIRTIO_ID_BLOCK	       2

/* §4.1.4 virtio PCI capabilities (vendor-specific, cap id 0x09):
 * cap_vndr, cap_next, cap_len, cfg_type, bar, id, padding[2], offset(4),
 * length(4), and for notify: notify_off_multiplier(4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG	  3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG	  5

/* §4.1.4.3 common configuration structure: byte offsets */
#define VIRTIO_PCI_COMMON_DFSELECT	0x00 /* le32 device_feature_select */
#define VIRTIO_PCI_COMMON_DF		0x04 /* le32 device_feature (RO) */
#define VIRTIO_PCI_COMMON_GFSELECT	0x08 /* le32 driver_feature_select */
#define VIRTIO_PCI_COMMON_GF		0x0c /* le32 driver_feature */
#define VIRTIO_PCI_COMMON_MSIX		0x10 /* le16 config_msix_vector */
#define VIRTIO_PCI_COMMON_NUMQ		0x12 /* le16 num_queues (RO) */
#define VIRTIO_PCI_COMMON_STATUS	0x14 /* u8 device_status */
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15 /* u8 config_generation (RO) */
#define VIRTIO_PCI_COMMON_Q_SELECT	0x16 /* le16 */
#define VIRTIO_PCI_COMMON_Q_SIZE	0x18 /* le16 */
#define VIRTIO_PCI_COMMON_Q_MSIX	0x1a /* le16 */
#define VIRTIO_PCI_COMMON_Q_ENABLE	0x1c /* le16 */
#define VIRTIO_PCI_COMMON_Q_NOFF	0x1e /* le16 queue_notify_off (RO) */
#define VIRTIO_PCI_COMMON_Q_DESCLO	0x20 /* le64 queue_desc */
#define VIRTIO_PCI_COMMON_Q_DESCHI	0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO	0x28 /* le64 queue_driver */
#define VIRTIO_PCI_COMMON_Q_AVAILHI	0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO	0x30 /* le64 queue_device */
#define VIRTIO_PCI_COMMON_Q_USEDHI	0x34
#define VIRTIO_PCI_COMMON_SIZE		0x38
#define VIRTIO_MSI_NO_VECTOR		0xffff

/* §4.1.4.5 ISR status bits (read clears) */
#define VIRTIO_PCI_ISR_QUEUE  0x1
#define VIRTIO_PCI_ISR_CONFIG 0x2

/* corevisor's layout of a virtio function's BAR 0 (one 32-bit memory BAR):
 * each structure on its own page, so the notify page can stay unmapped (a
 * kick exits) while the others are emulated too. MSI-X table and PBA live in
 * the same BAR. */
#define VIO_BAR0_COMMON		  0x0000
#define VIO_BAR0_ISR		  0x1000
#define VIO_BAR0_DEVICE		  0x2000
#define VIO_BAR0_NOTIFY		  0x3000
#define VIO_NOTIFY_OFF_MULTIPLIER 4 /* queue q's notify register: NOTIFY + 4 q */
#define VIO_BAR0_MSIX_TABLE	  0x4000
#define VIO_BAR0_MSIX_PBA	  0x5000
#define VIO_BAR0_SIZE		  0x8000

/* §5.2 block device */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX  2
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH    9
#define VIRTIO_BLK_T_IN	      0
#define VIRTIO_BLK_T_OUT      1
#define VIRTIO_BLK_T_FLUSH    4
#define VIRTIO_BLK_T_GET_ID   8
#define VIRTIO_BLK_S_OK	      0
#define VIRTIO_BLK_S_IOERR    1
#define VIRTIO_BLK_S_UNSUPP   2
#define VIRTIO_BLK_ID_BYTES   20
#define VIRTIO_BLK_SECTOR     512
/* config: le64 capacity (0), le32 size_max (8), le32 seg_max (12),
 * geometry (16: 4 bytes), le32 blk_size (20) */
#define VIRTIO_BLK_CFG_CAPACITY 0
#define VIRTIO_BLK_CFG_SIZE_MAX 8
#define VIRTIO_BLK_CFG_SEG_MAX	12
#define VIRTIO_BLK_CFG_BLK_SIZE 20
#define VIRTIO_BLK_CFG_SIZE	24
/* request header: le32 type, le32 reserved, le64 sector */
#define VIRTIO_BLK_HDR_SIZE 16

/* §5.1 network device */
#define VIRTIO_NET_F_MAC       5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS    16
#define VIRTIO_NET_S_LINK_UP   1
#define VIRTIO_NET_Q_RX	       0
#define VIRTIO_NET_Q_TX	       1
/* config: mac[6] (0), le16 status (6), le16 max_virtqueue_pairs (8) */
#define VIRTIO_NET_CFG_MAC    0
#define VIRTIO_NET_CFG_STATUS 6
#define VIRTIO_NET_CFG_SIZE   10
/* struct virtio_net_hdr with VERSION_1: flags, gso_type, hdr_len, gso_size,
 * csum_start, csum_offset, num_buffers (le16 at 10) */
#define VIRTIO_NET_HDR_SIZE	   12
#define VIRTIO_NET_HDR_NUM_BUFFERS 10
#define VIO_ETH_MIN_FRAME	   14 /* a frame must hold its Ethernet header */
#define VIO_ETH_MAX_FRAME	   1514

#endif
