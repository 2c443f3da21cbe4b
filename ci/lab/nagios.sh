# ci/lab/nagios.sh: the Nagios 4 configuration that ci/consumers.sh and ci/installed.sh both
# run the real Nagios core with (sourced, not run): a private instance under one directory,
# checks run at once, nothing notified.
#
#   nagios_base_objects         prints the objects every instance needs: a 24x7 timeperiod,
#                               the always-up host check, a contact `nobody` that is never
#                               notified
#   nagios_example_objects      prints what the shipped example configurations expect: the
#                               service template generic-service, the hostgroup web-servers
#   nagios_main_cfg DIR USER [CFG...]
#                               prints nagios.cfg for an instance whose files are all in DIR
#                               (objects in DIR/objects.cfg, plus each CFG), run as USER
# shellcheck shell=bash

nagios_base_objects() {
  cat <<'EOF'
define timeperiod {
  timeperiod_name 24x7
  alias           24x7
  sunday          00:00-24:00
  monday          00:00-24:00
  tuesday         00:00-24:00
  wednesday       00:00-24:00
  thursday        00:00-24:00
  friday          00:00-24:00
  saturday        00:00-24:00
}
define command {
  command_name always-up
  command_line /bin/true
}
define command {
  command_name notify-nobody
  command_line /bin/true
}
define contact {
  contact_name                  nobody
  alias                         nobody
  host_notifications_enabled    0
  service_notifications_enabled 0
  host_notification_period      24x7
  service_notification_period   24x7
  host_notification_options     n
  service_notification_options  n
  host_notification_commands    notify-nobody
  service_notification_commands notify-nobody
}
EOF
}

nagios_example_objects() {
  cat <<'EOF'
define service {
  name                  generic-service
  check_period          24x7
  contacts              nobody
  notification_interval 0
  notification_period   24x7
  register              0
}
define hostgroup {
  hostgroup_name web-servers
  alias          web servers
}
EOF
}

nagios_main_cfg() {
  local dir=$1 user=$2 cfg
  shift 2
  echo "log_file=$dir/nagios.log"
  echo "cfg_file=$dir/objects.cfg"
  for cfg in "$@"; do echo "cfg_file=$cfg"; done
  cat <<EOF
object_cache_file=$dir/objects.cache
precached_object_file=$dir/objects.precache
status_file=$dir/status.dat
status_update_interval=1
nagios_user=$user
nagios_group=$user
check_external_commands=0
command_file=$dir/nagios.cmd
query_socket=$dir/nagios.qh
lock_file=$dir/nagios.lock
temp_file=$dir/nagios.tmp
temp_path=$dir/tmp
check_result_path=$dir/spool
retain_state_information=0
use_syslog=0
enable_notifications=0
enable_event_handlers=0
execute_service_checks=1
execute_host_checks=1
service_inter_check_delay_method=n
host_inter_check_delay_method=n
max_service_check_spread=1
check_result_reaper_frequency=1
service_check_timeout=60
EOF
}
