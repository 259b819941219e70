// lispscope's own binding to libpcap: what `cap` does not give a packet analyzer. The kernel's
// timestamp of each packet (nanoseconds when libpcap can), its original length, pcap_stats (the
// kernel's drop counters) and pcap_datalink as a number. Node-API only (no C++ wrapper), so one
// build serves every Node version with Node-API 8.
//
// Capture runs on the event loop, as cap's does: a uv_poll on libpcap's selectable descriptor, the
// handle non-blocking. When readable, pcap_dispatch copies packets into one JavaScript-owned buffer
// (a 20-byte record header each, 4-byte aligned) and the JavaScript callback gets one call per
// filled buffer: one crossing per batch, not per packet. The buffer always has room for a whole
// snaplen packet before a dispatch goes on (pcap_breakloop stops it short), so none is cut.
// JavaScript can hold the capture (hold(handle, true)): packets then wait in the kernel's ring,
// which is larger than its queue, and what does not fit there pcap_stats counts.
//
// Record: u32 seconds high, u32 seconds low, u32 fraction (ns or µs, see `precision`), u32 caplen,
// u32 original length, then caplen bytes, padded to 4. Host byte order.

#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>
#include <pcap/pcap.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#ifdef __linux__
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>
#endif

#define RECORD_HEADER 20
#define MAX_ROUNDS 64

typedef struct {
  pcap_t *p;
  napi_env env;
  napi_ref callback;
  napi_ref buffer_ref;
  napi_async_context async_context;
  uint8_t *buf;
  size_t buf_len;
  size_t used;
  uint32_t count;
  uint32_t snaplen;
  uv_poll_t poll;
  int polling;
  // JavaScript asked for no packets for now: the poll is stopped until it asks again.
  int held;
  // The descriptor failed: the poll stays stopped whatever JavaScript asks.
  int failed;
  int in_readable;
  int closing;
  // Owners of the struct: the JavaScript external (until finalized) and the uv poll handle (until
  // its close callback). Freed when both are gone.
  int owners;
} handle_t;

static void release(handle_t *h) {
  if (--h->owners == 0) free(h);
}

#define CHECK(env, call)                                              \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error((env), "EINTERNAL", "node-api call failed: " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

// On the Linux loopback every packet passes twice, sent and received, and libpcap skips the sent
// copy only after it took a place in the kernel's ring and cost a look: the kernel can leave it
// out (PACKET_IGNORE_OUTGOING, Linux 4.20), for the same packets at half the ring and half the
// work. Elsewhere the sent packets are the host's own traffic, and stay.
static void skip_loopback_echo(pcap_t *p, const char *device) {
#if defined(__linux__) && defined(PACKET_IGNORE_OUTGOING)
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", device);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) return;
  int loopback = ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_LOOPBACK);
  close(s);
  int one = 1;
  // An older kernel refuses the option: libpcap goes on skipping the sent copies itself.
  if (loopback) (void)setsockopt(pcap_fileno(p), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
#else
  (void)p;
  (void)device;
#endif
}

static napi_value throw_error(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

static napi_status set_number(napi_env env, napi_value obj, const char *key, double n) {
  napi_value v;
  napi_status s = napi_create_double(env, n, &v);
  return s == napi_ok ? napi_set_named_property(env, obj, key, v) : s;
}

static napi_status set_string(napi_env env, napi_value obj, const char *key, const char *text) {
  napi_value v;
  napi_status s = napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v);
  return s == napi_ok ? napi_set_named_property(env, obj, key, v) : s;
}

static napi_status set_bool(napi_env env, napi_value obj, const char *key, bool b) {
  napi_value v;
  napi_status s = napi_get_boolean(env, b, &v);
  return s == napi_ok ? napi_set_named_property(env, obj, key, v) : s;
}

// In size_t: a caplen near 2^32 would wrap in 32 bits and pass the room checks.
static size_t padded(uint32_t n) { return ((size_t)n + 3u) & ~(size_t)3u; }

static void put32(uint8_t *at, uint32_t v) { memcpy(at, &v, 4); }

static void on_packet(u_char *user, const struct pcap_pkthdr *hdr, const u_char *bytes) {
  handle_t *h = (handle_t *)user;
  uint32_t caplen = hdr->caplen;
  if (caplen > h->snaplen) caplen = h->snaplen;
  uint8_t *at = h->buf + h->used;
  uint64_t sec = (uint64_t)hdr->ts.tv_sec;
  put32(at, (uint32_t)(sec >> 32));
  put32(at + 4, (uint32_t)sec);
  put32(at + 8, (uint32_t)hdr->ts.tv_usec);
  put32(at + 12, caplen);
  put32(at + 16, hdr->len);
  memcpy(at + RECORD_HEADER, bytes, caplen);
  h->used += RECORD_HEADER + padded(caplen);
  h->count++;
  // The next packet may be as long as the snaplen: stop this dispatch unless it surely fits.
  if (h->buf_len - h->used < RECORD_HEADER + padded(h->snaplen)) pcap_breakloop(h->p);
}

static void deliver(handle_t *h, const char *error) {
  napi_env env = h->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[3], result;
  // Arguments that cannot be made mean no call: JavaScript would read a batch that is not there.
  if (napi_get_reference_value(env, h->callback, &cb) == napi_ok && cb != NULL && napi_get_global(env, &recv) == napi_ok &&
      napi_create_uint32(env, (uint32_t)h->used, &argv[0]) == napi_ok && napi_create_uint32(env, h->count, &argv[1]) == napi_ok &&
      (error ? napi_create_string_utf8(env, error, NAPI_AUTO_LENGTH, &argv[2]) : napi_get_undefined(env, &argv[2])) == napi_ok) {
    napi_status s = napi_make_callback(env, h->async_context, recv, cb, 3, argv, &result);
    if (s == napi_pending_exception) {
      napi_value e;
      // A throw in the callback is the program's bug: Node reports it as uncaught.
      if (napi_get_and_clear_last_exception(env, &e) == napi_ok) (void)napi_fatal_exception(env, e);
    }
  }
  (void)napi_close_handle_scope(env, scope); // fails only for a scope not ours
}

static void on_poll_closed(uv_handle_t *w) { release((handle_t *)w->data); }

static void do_close(handle_t *h) {
  if (!h->p) return;
  if (h->polling) {
    uv_poll_stop(&h->poll);
    uv_close((uv_handle_t *)&h->poll, on_poll_closed);
    h->polling = 0;
  }
  pcap_close(h->p);
  h->p = NULL;
  // Teardown: a failure to release leaves nothing to do but go on releasing the rest.
  if (h->callback) (void)napi_delete_reference(h->env, h->callback);
  if (h->buffer_ref) (void)napi_delete_reference(h->env, h->buffer_ref);
  if (h->async_context) (void)napi_async_destroy(h->env, h->async_context);
  h->callback = h->buffer_ref = NULL;
  h->async_context = NULL;
}

// Takes what the kernel holds, a batch a call into JavaScript; `status` is uv's word on the descriptor.
static void take_ready(handle_t *h, int status) {
  if (!h->p || h->closing) return;
  h->in_readable = 1;
  int failed = 0;
  for (int round = 0; round < MAX_ROUNDS && h->p && !h->closing && !h->held; round++) {
    h->used = 0;
    h->count = 0;
    int r = pcap_dispatch(h->p, -1, on_packet, (u_char *)h);
    const char *error = r == PCAP_ERROR ? pcap_geterr(h->p) : NULL;
    failed = error != NULL;
    if (h->count || error) deliver(h, error);
    if (r == PCAP_ERROR || r == 0) break;
    // A dispatch that ended by itself (not by pcap_breakloop) took everything ready.
    if (r != PCAP_ERROR_BREAK && h->buf_len - h->used >= RECORD_HEADER + padded(h->snaplen)) break;
  }
  // The descriptor failed and libpcap had nothing to say (the interface went away): say what uv saw.
  if (status < 0 && !failed && h->p && !h->closing) {
    h->used = h->count = 0;
    deliver(h, uv_strerror(status));
    failed = 1;
  }
  // Nothing more will come: stop waking up for it (JavaScript closes the handle).
  if (failed && h->polling) {
    uv_poll_stop(&h->poll);
    h->failed = 1;
  }
  h->in_readable = 0;
  if (h->closing) do_close(h);
}

static void on_readable(uv_poll_t *w, int status, int events) {
  (void)events;
  take_ready((handle_t *)w->data, status);
}

static void finalize_handle(napi_env env, void *data, void *hint) {
  (void)hint;
  handle_t *h = (handle_t *)data;
  h->env = env;
  if (h->p) {
    // Collected while open: JavaScript lost it without close(). Close it; the poll owner stays
    // until uv has closed its handle.
    h->closing = 1;
    do_close(h);
  }
  release(h);
}

static int get_string(napi_env env, napi_value v, char *out, size_t size) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, out, size, &len) != napi_ok) return 0;
  return len < size - 1;
}

// The handle in a call's first argument (and `n` arguments in argv); NULL with an exception pending
// when there is none, or it is closed and `open` is required.
static handle_t *handle_arg(napi_env env, napi_callback_info info, napi_value *argv, size_t n, int open) {
  size_t argc = n;
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n || napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
    napi_throw_error(env, "EINVAL", "not a pcap handle");
    return NULL;
  }
  handle_t *h = (handle_t *)data;
  if (open && !h->p) {
    napi_throw_error(env, "ECLOSED", "the handle is closed");
    return NULL;
  }
  return h;
}

// open(device, filter, snaplen, bufferSize, buffer | null, callback | null, promiscuous)
//   -> { handle, linkType, precision: "nano" | "micro", warning? }
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) return throw_error(env, "EINVAL", "open needs 7 arguments");
  bool promisc_arg;
  if (napi_get_value_bool(env, argv[6], &promisc_arg) != napi_ok) return throw_error(env, "EINVAL", "promiscuous must be a boolean");
  int promisc = promisc_arg ? 1 : 0;
  char device[256], filter[8192];
  if (!get_string(env, argv[0], device, sizeof device)) return throw_error(env, "EINVAL", "bad device name");
  if (!get_string(env, argv[1], filter, sizeof filter)) return throw_error(env, "EINVAL", "filter too long");
  uint32_t snaplen, buffer_size;
  if (napi_get_value_uint32(env, argv[2], &snaplen) != napi_ok || snaplen == 0) return throw_error(env, "EINVAL", "bad snaplen");
  if (napi_get_value_uint32(env, argv[3], &buffer_size) != napi_ok) return throw_error(env, "EINVAL", "bad buffer size");
  napi_valuetype cb_type;
  CHECK(env, napi_typeof(env, argv[5], &cb_type));
  int capture = cb_type == napi_function;
  void *buf = NULL;
  size_t buf_len = 0;
  if (capture) {
    if (napi_get_buffer_info(env, argv[4], &buf, &buf_len) != napi_ok) return throw_error(env, "EINVAL", "capture needs a Buffer");
    if (buf_len < 2 * (RECORD_HEADER + padded(snaplen))) return throw_error(env, "EINVAL", "buffer too small for two packets");
  }

  char errbuf[PCAP_ERRBUF_SIZE] = "";
  char message[PCAP_ERRBUF_SIZE + 256];
  if (snaplen > INT_MAX || buffer_size > INT_MAX) return throw_error(env, "EINVAL", "snaplen or buffer size too large");
  pcap_t *p = pcap_create(device, errbuf);
  if (!p) return throw_error(env, "EOPEN", errbuf);
  // Each setter fails only on an activated handle; a failure here is a bug worth saying, not ignoring.
  const char *failed = pcap_set_snaplen(p, (int)snaplen) != 0 ? "pcap_set_snaplen"
                       : pcap_set_promisc(p, promisc) != 0 ? "pcap_set_promisc"
                       : pcap_set_buffer_size(p, (int)buffer_size) != 0 ? "pcap_set_buffer_size"
                       // Not immediate mode: libpcap would fall back to TPACKET_V2, one MTU-sized slot
                       // per packet (64 KiB on the loopback). TPACKET_V3 packs packets into blocks; a
                       // block goes to us when full or after the timeout, so a packet waits at most
                       // that long, and its timestamp is the kernel's anyway.
                       : pcap_set_timeout(p, 10) != 0 ? "pcap_set_timeout"
                                                      : NULL;
  if (failed) {
    snprintf(message, sizeof message, "%s failed: %s", failed, pcap_geterr(p));
    pcap_close(p);
    return throw_error(env, "EOPEN", message);
  }
  // Not every platform or interface has nanosecond timestamps: then microseconds, said in `precision`.
  int nano = pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0;
  int r = pcap_activate(p);
  if (r < 0) {
    const char *detail = pcap_geterr(p);
    if (r == PCAP_ERROR || !detail[0]) snprintf(message, sizeof message, "%s", detail[0] ? detail : pcap_statustostr(r));
    else snprintf(message, sizeof message, "%s (%s)", pcap_statustostr(r), detail);
    pcap_close(p);
    return throw_error(env, r == PCAP_ERROR_PERM_DENIED ? "EPERM" : r == PCAP_ERROR_NO_SUCH_DEVICE ? "ENODEV" : "EOPEN", message);
  }
  char warning[PCAP_ERRBUF_SIZE + 64] = "";
  if (r > 0) snprintf(warning, sizeof warning, "%s (%s)", pcap_statustostr(r), pcap_geterr(p));

  struct bpf_program prog;
  if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
    snprintf(message, sizeof message, "%s", pcap_geterr(p));
    pcap_close(p);
    return throw_error(env, "EFILTER", message);
  }
  r = pcap_setfilter(p, &prog);
  pcap_freecode(&prog);
  if (r < 0) {
    snprintf(message, sizeof message, "cannot set the filter: %s", pcap_geterr(p));
    pcap_close(p);
    return throw_error(env, "EFILTER", message);
  }
  skip_loopback_echo(p, device);

  handle_t *h = calloc(1, sizeof *h);
  if (!h) {
    pcap_close(p);
    return throw_error(env, "ENOMEM", "out of memory");
  }
  h->p = p;
  h->env = env;
  h->snaplen = snaplen;
  h->owners = 1;
  if (capture) {
    if (pcap_setnonblock(p, 1, errbuf) < 0) {
      pcap_close(p);
      free(h);
      return throw_error(env, "EOPEN", errbuf);
    }
    int fd = pcap_get_selectable_fd(p);
    uv_loop_t *loop;
    if (fd < 0 || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &h->poll, fd) != 0) {
      pcap_close(p);
      free(h);
      return throw_error(env, "EOPEN", "libpcap gives no descriptor to wait on");
    }
    h->poll.data = h;
    h->owners++;
    h->buf = buf;
    h->buf_len = buf_len;
    // From here the poll handle is initialised: a failure closes the handle (uv_close), which then
    // drops the poll's ownership; do_close releases the references made so far.
    h->polling = 1;
    napi_value name;
    const char *what = napi_create_string_utf8(env, "lispscope:pcap", NAPI_AUTO_LENGTH, &name) != napi_ok ? "napi_create_string_utf8"
                       : napi_async_init(env, NULL, name, &h->async_context) != napi_ok              ? "napi_async_init"
                       : napi_create_reference(env, argv[5], 1, &h->callback) != napi_ok            ? "napi_create_reference"
                       : napi_create_reference(env, argv[4], 1, &h->buffer_ref) != napi_ok          ? "napi_create_reference"
                       : uv_poll_start(&h->poll, UV_READABLE, on_readable) != 0                     ? "uv_poll_start"
                                                                                                    : NULL;
    if (what) {
      do_close(h);
      release(h);
      snprintf(message, sizeof message, "cannot start the capture: %s failed", what);
      return throw_error(env, "EOPEN", message);
    }
  }

  napi_value result, external, value;
  if (napi_create_object(env, &result) != napi_ok || napi_create_external(env, h, finalize_handle, NULL, &external) != napi_ok) {
    // No JavaScript owner came to be: close here and drop the owner the external would have been.
    do_close(h);
    release(h);
    return throw_error(env, "EINTERNAL", "cannot create the handle object");
  }
  // From here the external owns the handle: a failure below leaves it to the finalizer.
  if (napi_set_named_property(env, result, "handle", external) != napi_ok || napi_create_int32(env, pcap_datalink(p), &value) != napi_ok ||
      napi_set_named_property(env, result, "linkType", value) != napi_ok ||
      napi_create_string_utf8(env, nano ? "nano" : "micro", NAPI_AUTO_LENGTH, &value) != napi_ok ||
      napi_set_named_property(env, result, "precision", value) != napi_ok ||
      (warning[0] && (napi_create_string_utf8(env, warning, NAPI_AUTO_LENGTH, &value) != napi_ok ||
                      napi_set_named_property(env, result, "warning", value) != napi_ok))) {
    h->closing = 1;
    do_close(h);
    return throw_error(env, "EINTERNAL", "cannot fill the handle object");
  }
  return result;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  handle_t *h = handle_arg(env, info, argv, 1, 0);
  if (!h || !h->p || h->closing) return NULL;
  h->closing = 1;
  // Inside our own callback libpcap is still in use: on_readable closes when it unwinds.
  if (!h->in_readable) do_close(h);
  return NULL;
}

// hold(handle, held): stop taking packets from the kernel (they wait in its ring), or start again,
// taking at once what waited (JavaScript lets go before it closes: nothing is left behind uncounted).
static napi_value js_hold(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  handle_t *h = handle_arg(env, info, argv, 2, 1);
  if (!h) return NULL;
  bool held;
  if (napi_get_value_bool(env, argv[1], &held) != napi_ok) return throw_error(env, "EINVAL", "held must be a boolean");
  if (!h->polling || h->closing || h->failed || h->held == (int)held) return NULL;
  h->held = held;
  if (held) {
    uv_poll_stop(&h->poll);
    return NULL;
  }
  if (uv_poll_start(&h->poll, UV_READABLE, on_readable) != 0) return throw_error(env, "EHOLD", "cannot wait on the capture again");
  if (!h->in_readable) take_ready(h, 0);
  return NULL;
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  handle_t *h = handle_arg(env, info, argv, 1, 1);
  if (!h) return NULL;
  struct pcap_stat st;
  if (pcap_stats(h->p, &st) < 0) return throw_error(env, "ESTATS", pcap_geterr(h->p));
  napi_value result;
  CHECK(env, napi_create_object(env, &result));
  CHECK(env, set_number(env, result, "recv", (double)st.ps_recv));
  CHECK(env, set_number(env, result, "drop", (double)st.ps_drop));
  CHECK(env, set_number(env, result, "ifdrop", (double)st.ps_ifdrop));
  return result;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  handle_t *h = handle_arg(env, info, argv, 2, 1);
  if (!h) return NULL;
  void *data;
  size_t len;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, argv[1], &type, &len, &data, &ab, &offset) != napi_ok || type != napi_uint8_array) {
    return throw_error(env, "EINVAL", "send needs a Uint8Array");
  }
  if (len > INT_MAX) return throw_error(env, "EINVAL", "frame too large to send");
  if (pcap_sendpacket(h->p, data, (int)len) < 0) return throw_error(env, "ESEND", pcap_geterr(h->p));
  return NULL;
}

#define SEND_BATCH 256

// sendBatch(handle, bytes, ends) -> frames sent. Frame i is bytes[ends[i - 1], ends[i]) (the first
// starts at 0): on Linux sendmmsg on libpcap's packet socket, SEND_BATCH frames a system call, for a sender
// that one pcap_sendpacket (and one crossing into C) per frame cannot make fast enough. Stops
// short, without an error, when the socket takes no more for now (EAGAIN, ENOBUFS).
static napi_value js_send_batch(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  handle_t *h = handle_arg(env, info, argv, 3, 1);
  if (!h) return NULL;
  void *data, *ends_data;
  size_t len, n, offset;
  napi_typedarray_type type;
  napi_value ab;
  if (napi_get_typedarray_info(env, argv[1], &type, &len, &data, &ab, &offset) != napi_ok || type != napi_uint8_array) {
    return throw_error(env, "EINVAL", "sendBatch needs a Uint8Array of frames");
  }
  if (napi_get_typedarray_info(env, argv[2], &type, &n, &ends_data, &ab, &offset) != napi_ok || type != napi_uint32_array) {
    return throw_error(env, "EINVAL", "sendBatch needs a Uint32Array of frame ends");
  }
  const uint32_t *ends = ends_data;
  for (size_t i = 0; i < n; i++) {
    if (ends[i] < (i == 0 ? 0 : ends[i - 1]) || ends[i] > len) return throw_error(env, "EINVAL", "frame ends out of order or past the bytes");
  }
  size_t done = 0;
#ifdef __linux__
  int fd = pcap_fileno(h->p);
  if (fd < 0) return throw_error(env, "ESEND", "libpcap gives no descriptor to send on");
  struct mmsghdr msgs[SEND_BATCH];
  struct iovec iov[SEND_BATCH];
  while (done < n) {
    unsigned k = 0;
    for (; k < SEND_BATCH && done + k < n; k++) {
      size_t i = done + k;
      uint32_t start = i == 0 ? 0 : ends[i - 1];
      iov[k].iov_base = (uint8_t *)data + start;
      iov[k].iov_len = ends[i] - start;
      memset(&msgs[k], 0, sizeof msgs[k]);
      msgs[k].msg_hdr.msg_iov = &iov[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(fd, msgs, k, 0);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EINTR) break;
      return throw_error(env, "ESEND", strerror(errno));
    }
    done += (size_t)r;
    if ((unsigned)r < k) break;
  }
#else
  // No sendmmsg: one pcap_sendpacket a frame, still one crossing into C for the batch.
  for (; done < n; done++) {
    uint32_t start = done == 0 ? 0 : ends[done - 1];
    if (pcap_sendpacket(h->p, (const u_char *)data + start, (int)(ends[done] - start)) < 0) {
      if (done > 0) break;
      return throw_error(env, "ESEND", pcap_geterr(h->p));
    }
  }
#endif
  napi_value result;
  CHECK(env, napi_create_double(env, (double)done, &result));
  return result;
}

// The address as text; 0 (and nothing in `text`) for families other than IPv4 and IPv6.
static int address_text(struct sockaddr *sa, char *text, size_t size) {
  if (!sa) return 0;
  if (sa->sa_family == AF_INET) return inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, text, size) != NULL;
  if (sa->sa_family == AF_INET6) return inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, text, size) != NULL;
  return 0;
}

// One device as an object; napi_ok or the first failing status.
static napi_status device_object(napi_env env, pcap_if_t *d, napi_value *out) {
  napi_value dev, addrs, v;
  napi_status s;
  if ((s = napi_create_object(env, &dev)) != napi_ok || (s = set_string(env, dev, "name", d->name)) != napi_ok) return s;
  if (d->description && (s = set_string(env, dev, "description", d->description)) != napi_ok) return s;
  if ((s = napi_create_array(env, &addrs)) != napi_ok) return s;
  uint32_t j = 0;
  for (pcap_addr_t *a = d->addresses; a; a = a->next) {
    char text[INET6_ADDRSTRLEN];
    if (!address_text(a->addr, text, sizeof text)) continue;
    if ((s = napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v)) != napi_ok || (s = napi_set_element(env, addrs, j++, v)) != napi_ok) return s;
  }
  if ((s = napi_set_named_property(env, dev, "addresses", addrs)) != napi_ok ||
      (s = set_bool(env, dev, "loopback", (d->flags & PCAP_IF_LOOPBACK) != 0)) != napi_ok ||
      (s = set_bool(env, dev, "up", (d->flags & PCAP_IF_UP) != 0)) != napi_ok)
    return s;
  *out = dev;
  return napi_ok;
}

// devices() -> [{ name, description?, addresses: string[], loopback, up }]
static napi_value js_devices(napi_env env, napi_callback_info info) {
  (void)info;
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_if_t *all;
  if (pcap_findalldevs(&all, errbuf) < 0) return throw_error(env, "EDEVICES", errbuf);
  napi_value list, dev;
  napi_status s = napi_create_array(env, &list);
  uint32_t i = 0;
  for (pcap_if_t *d = all; d && s == napi_ok; d = d->next) {
    s = device_object(env, d, &dev);
    if (s == napi_ok) s = napi_set_element(env, list, i++, dev);
  }
  pcap_freealldevs(all);
  if (s != napi_ok) return throw_error(env, "EINTERNAL", "node-api call failed while listing the devices");
  return list;
}

static napi_value js_version(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  CHECK(env, napi_create_string_utf8(env, pcap_lib_version(), NAPI_AUTO_LENGTH, &v));
  return v;
}

// ---- capture filters on files: pcap_compile for the file's link type, pcap_offline_filter per frame

typedef struct {
  struct bpf_program prog;
} filter_t;

static void finalize_filter(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  filter_t *f = (filter_t *)data;
  pcap_freecode(&f->prog);
  free(f);
}

// Files carry LINKTYPE_* values; libpcap compiles for DLT_* ones. They differ for raw IP only.
static int linktype_to_dlt(uint32_t linktype) { return linktype == 101 ? DLT_RAW : (int)linktype; }

// compileFilter(linkType, snaplen, expression) -> program (an external)
static napi_value js_compile_filter(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_error(env, "EINVAL", "compileFilter needs 3 arguments");
  uint32_t linktype, snaplen;
  char expression[8192];
  if (napi_get_value_uint32(env, argv[0], &linktype) != napi_ok) return throw_error(env, "EINVAL", "bad link type");
  if (napi_get_value_uint32(env, argv[1], &snaplen) != napi_ok || snaplen == 0 || snaplen > INT_MAX) return throw_error(env, "EINVAL", "bad snaplen");
  if (!get_string(env, argv[2], expression, sizeof expression)) return throw_error(env, "EINVAL", "filter too long");
  pcap_t *dead = pcap_open_dead(linktype_to_dlt(linktype), (int)snaplen);
  if (!dead) return throw_error(env, "ENOMEM", "pcap_open_dead failed");
  filter_t *f = calloc(1, sizeof *f);
  if (!f) {
    pcap_close(dead);
    return throw_error(env, "ENOMEM", "out of memory");
  }
  if (pcap_compile(dead, &f->prog, expression, 1, PCAP_NETMASK_UNKNOWN) < 0) {
    char message[PCAP_ERRBUF_SIZE];
    snprintf(message, sizeof message, "%s", pcap_geterr(dead));
    pcap_close(dead);
    free(f);
    return throw_error(env, "EFILTER", message);
  }
  pcap_close(dead);
  napi_value external;
  if (napi_create_external(env, f, finalize_filter, NULL, &external) != napi_ok) {
    pcap_freecode(&f->prog);
    free(f);
    return throw_error(env, "EINTERNAL", "node-api call failed: napi_create_external");
  }
  return external;
}

// filterMatches(program, frame: Uint8Array, originalLength) -> boolean
static napi_value js_filter_matches(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *program = NULL, *data;
  size_t len, offset;
  uint32_t orig;
  napi_typedarray_type type;
  napi_value ab;
  if (argc < 3 || napi_get_value_external(env, argv[0], &program) != napi_ok || !program) return throw_error(env, "EINVAL", "not a filter program");
  if (napi_get_typedarray_info(env, argv[1], &type, &len, &data, &ab, &offset) != napi_ok || type != napi_uint8_array) {
    return throw_error(env, "EINVAL", "filterMatches needs a Uint8Array");
  }
  if (napi_get_value_uint32(env, argv[2], &orig) != napi_ok || len > UINT32_MAX) return throw_error(env, "EINVAL", "bad length");
  struct pcap_pkthdr hdr;
  memset(&hdr, 0, sizeof hdr);
  hdr.caplen = (bpf_u_int32)len;
  hdr.len = orig < len ? (bpf_u_int32)len : orig;
  napi_value result;
  CHECK(env, napi_get_boolean(env, pcap_offline_filter(&((filter_t *)program)->prog, &hdr, data) != 0, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
      {"hold", NULL, js_hold, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"sendBatch", NULL, js_send_batch, NULL, NULL, NULL, napi_default, NULL},
      {"devices", NULL, js_devices, NULL, NULL, NULL, napi_default, NULL},
      {"version", NULL, js_version, NULL, NULL, NULL, napi_default, NULL},
      {"compileFilter", NULL, js_compile_filter, NULL, NULL, NULL, napi_default, NULL},
      {"filterMatches", NULL, js_filter_matches, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  CHECK(env, set_number(env, exports, "recordHeader", RECORD_HEADER));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
