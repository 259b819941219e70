{
  "targets": [
    {
      "target_name": "lispscope_pcap",
      "sources": ["lispscope_pcap.c"],
      "cflags": ["-std=c11", "-Wall", "-Wextra", "-D_DEFAULT_SOURCE"],
      "link_settings": { "libraries": ["-lpcap"] }
    }
  ]
}
