; what: bpf_get_smp_processor_id is below nr_cpu_ids
; prog: socket_filter
call bpf_get_smp_processor_id#8
exit
