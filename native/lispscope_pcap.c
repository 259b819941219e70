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
//
// Record: u32 seconds high, u32 seconds low, u32 fraction (ns or µs, see `precision`), u32 caplen,
// u32 original length, then caplen bytes, padded to 4. Host byte order.

#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>
#include <pcap/pcap.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

static napi_value throw_error(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

static size_t padded(uint32_t n) { return (n + 3u) & ~3u; }

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
  if (napi_get_reference_value(env, h->callback, &cb) == napi_ok && cb != NULL) {
    napi_get_global(env, &recv);
    napi_create_uint32(env, (uint32_t)h->used, &argv[0]);
    napi_create_uint32(env, h->count, &argv[1]);
    if (error) napi_create_string_utf8(env, error, NAPI_AUTO_LENGTH, &argv[2]);
    else napi_get_undefined(env, &argv[2]);
    napi_status s = napi_make_callback(env, h->async_context, recv, cb, 3, argv, &result);
    if (s == napi_pending_exception) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
      napi_fatal_exception(env, e);
    }
  }
  napi_close_handle_scope(env, scope);
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
  if (h->callback) napi_delete_reference(h->env, h->callback);
  if (h->buffer_ref) napi_delete_reference(h->env, h->buffer_ref);
  if (h->async_context) napi_async_destroy(h->env, h->async_context);
  h->callback = h->buffer_ref = NULL;
  h->async_context = NULL;
}

static void on_readable(uv_poll_t *w, int status, int events) {
  (void)events;
  handle_t *h = (handle_t *)w->data;
  if (!h->p || h->closing) return;
  h->in_readable = 1;
  int failed = 0;
  for (int round = 0; round < MAX_ROUNDS && h->p && !h->closing; round++) {
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
  if (failed && h->polling) uv_poll_stop(&h->poll);
  h->in_readable = 0;
  if (h->closing) do_close(h);
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

// open(device, filter, snaplen, bufferSize, buffer | null, callback | null)
//   -> { handle, linkType, precision: "nano" | "micro", warning? }
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) return throw_error(env, "EINVAL", "open needs 6 arguments");
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
  pcap_t *p = pcap_create(device, errbuf);
  if (!p) return throw_error(env, "EOPEN", errbuf);
  pcap_set_snaplen(p, (int)snaplen);
  pcap_set_promisc(p, 1);
  pcap_set_buffer_size(p, (int)buffer_size);
  // Not immediate mode: libpcap would fall back to TPACKET_V2, one MTU-sized slot per packet (64 KiB
  // on the loopback). TPACKET_V3 packs packets into blocks; a block goes to us when full or after
  // the timeout, so a packet waits at most that long, and its timestamp is the kernel's anyway.
  pcap_set_timeout(p, 10);
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
    napi_value name;
    napi_create_string_utf8(env, "lispscope:pcap", NAPI_AUTO_LENGTH, &name);
    napi_async_init(env, NULL, name, &h->async_context);
    napi_create_reference(env, argv[5], 1, &h->callback);
    napi_create_reference(env, argv[4], 1, &h->buffer_ref);
    uv_poll_start(&h->poll, UV_READABLE, on_readable);
    h->polling = 1;
  }

  napi_value result, external, value;
  CHECK(env, napi_create_object(env, &result));
  CHECK(env, napi_create_external(env, h, finalize_handle, NULL, &external));
  napi_set_named_property(env, result, "handle", external);
  napi_create_int32(env, pcap_datalink(p), &value);
  napi_set_named_property(env, result, "linkType", value);
  napi_create_string_utf8(env, nano ? "nano" : "micro", NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, result, "precision", value);
  if (warning[0]) {
    napi_create_string_utf8(env, warning, NAPI_AUTO_LENGTH, &value);
    napi_set_named_property(env, result, "warning", value);
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

static napi_value js_stats(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  handle_t *h = handle_arg(env, info, argv, 1, 1);
  if (!h) return NULL;
  struct pcap_stat st;
  if (pcap_stats(h->p, &st) < 0) return throw_error(env, "ESTATS", pcap_geterr(h->p));
  napi_value result, v;
  CHECK(env, napi_create_object(env, &result));
  napi_create_double(env, (double)st.ps_recv, &v);
  napi_set_named_property(env, result, "recv", v);
  napi_create_double(env, (double)st.ps_drop, &v);
  napi_set_named_property(env, result, "drop", v);
  napi_create_double(env, (double)st.ps_ifdrop, &v);
  napi_set_named_property(env, result, "ifdrop", v);
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
  if (pcap_sendpacket(h->p, data, (int)len) < 0) return throw_error(env, "ESEND", pcap_geterr(h->p));
  return NULL;
}

static napi_value address_string(napi_env env, struct sockaddr *sa) {
  char text[INET6_ADDRSTRLEN] = "";
  if (!sa) return NULL;
  if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, text, sizeof text);
  else if (sa->sa_family == AF_INET6) inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, text, sizeof text);
  else return NULL;
  napi_value v;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v);
  return v;
}

// devices() -> [{ name, description?, addresses: string[], loopback, up }]
static napi_value js_devices(napi_env env, napi_callback_info info) {
  (void)info;
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_if_t *all;
  if (pcap_findalldevs(&all, errbuf) < 0) return throw_error(env, "EDEVICES", errbuf);
  napi_value list, v;
  if (napi_create_array(env, &list) != napi_ok) {
    pcap_freealldevs(all);
    return NULL;
  }
  uint32_t i = 0;
  for (pcap_if_t *d = all; d; d = d->next) {
    napi_value dev, addrs;
    napi_create_object(env, &dev);
    napi_create_string_utf8(env, d->name, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, dev, "name", v);
    if (d->description) {
      napi_create_string_utf8(env, d->description, NAPI_AUTO_LENGTH, &v);
      napi_set_named_property(env, dev, "description", v);
    }
    napi_create_array(env, &addrs);
    uint32_t j = 0;
    for (pcap_addr_t *a = d->addresses; a; a = a->next) {
      napi_value s = address_string(env, a->addr);
      if (s) napi_set_element(env, addrs, j++, s);
    }
    napi_set_named_property(env, dev, "addresses", addrs);
    napi_get_boolean(env, (d->flags & PCAP_IF_LOOPBACK) != 0, &v);
    napi_set_named_property(env, dev, "loopback", v);
    napi_get_boolean(env, (d->flags & PCAP_IF_UP) != 0, &v);
    napi_set_named_property(env, dev, "up", v);
    napi_set_element(env, list, i++, dev);
  }
  pcap_freealldevs(all);
  return list;
}

static napi_value js_version(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_string_utf8(env, pcap_lib_version(), NAPI_AUTO_LENGTH, &v);
  return v;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"devices", NULL, js_devices, NULL, NULL, NULL, napi_default, NULL},
      {"version", NULL, js_version, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value v;
  napi_create_uint32(env, RECORD_HEADER, &v);
  napi_set_named_property(env, exports, "recordHeader", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
