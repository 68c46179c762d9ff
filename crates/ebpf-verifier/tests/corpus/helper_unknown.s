; what: call of a helper id that does not exist
; prog: socket_filter
call 9999
r0 = 0
exit
