; what: r1 read after a call clobbered it
; prog: socket_filter
r1 = 1
call pc+2
r0 = r1
exit
r0 = 0
exit
