; gotox without jump tables: no edge is invented; the code after it is
; kept, checked, and shown as not reachable from the entry
    r1 = 0
    gotox r1
a:
    r0 = 1
    exit
b:
    r0 = 2
    goto a
