; A toy XDP packet sampler: hash the 14-byte Ethernet header with FNV-1a
; (one bpf-to-bpf call per byte) and pass the packet when the hash is odd.
; Short packets are dropped. Its control-flow graph is docs/cfg-example.svg:
;   cargo run -p ebpf-cli -- cfg examples/cfg-demo.s --format dot | dot -Tsvg
        r8 = *(u32 *)(r1 +0)        ; data
        r2 = *(u32 *)(r1 +4)        ; data_end
        r1 = r8
        r1 += 14
        if r1 > r2 goto drop        ; shorter than an Ethernet header
        r6 = 0x811c9dc5             ; hash = FNV-1a offset basis
        r7 = 0                      ; i = 0
loop:
        r1 = r8
        r1 += r7
        r2 = *(u8 *)(r1 +0)         ; byte = data[i]
        r1 = r6
        call mix
        r6 = r0
        r7 += 1
        if r7 < 14 goto loop
        r0 = 2                      ; XDP_PASS
        if r6 & 1 goto out
drop:
        r0 = 1                      ; XDP_DROP
out:
        exit

mix:                                ; r0 = (r1 ^ r2) * FNV prime, 32 bits
        w0 = w1
        w0 ^= w2
        w0 *= 16777619
        exit
