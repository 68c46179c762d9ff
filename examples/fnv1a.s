; FNV-1a 64-bit hash of the input buffer (r1 = data, r2 = length),
; in the kernel's syntax. Run it with:
;   cargo run -p ebpf-cli -- run examples/fnv1a.s --mem "68 65 6c 6c 6f"
        r0 = 0xcbf29ce484222325     ; offset basis (ld_imm64)
        r3 = 0x100000001b3          ; FNV prime
        r4 = r1
        r4 += r2                    ; end pointer
loop:
        if r1 >= r4 goto done
        r5 = *(u8 *)(r1 +0)
        r0 ^= r5
        r0 *= r3
        r1 += 1
        goto loop
done:
        exit
