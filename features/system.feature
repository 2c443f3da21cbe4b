# The system suite: every System and Across-hosts sentence of the step language, checked
# over SSH on the lab (ci/lab.sh up). What each host should be is in the comment block at
# the top of ci/lab.sh; this file is also the worked example of those sentences.
#
#   shakedown run -i .lab/inventory.toml features/system.feature
#
# Service, package, mount, fstab, port and process checks read each of those facts once
# per host per run, however many steps ask; file checks send one command each.
Feature: Every lab host is configured as intended

  @hosts:web
  Scenario: The web servers serve with nginx
    Then the service "nginx" should be running
    And the service "nginx" should be enabled at boot
    And the package "nginx" should be installed
    And the package "nginx" should be installed at version ">= 1.22"
    And a process named "nginx" should be running
    And at least 2 processes named "nginx" should be running
    And port 80 should be listening
    And port 443 should be listening
    And port 3306 should not be listening
    And the directory "/var/www/html" should exist
    And the file "/var/www/html/index.html" should contain "Welcome to {name}"

  @hosts:db
  Scenario: The database servers run MariaDB and no web server
    Then the service "mariadb" should be running
    And the service "mariadb" should be enabled at boot
    And the service "nginx" should not be running
    And the service "nginx" should not be enabled at boot
    And the package "nginx" should not be installed
    And the package "telnet" should not be installed
    And port 3306 should be listening
    And port 80 should not be listening

  @hosts:db
  Scenario: The nightly backup wrote its log
    Then the file "/var/log/backup.log" should exist
    And the file "/var/log/backup.log" should have been modified within 25 hours
    And the last 50 lines of "/var/log/backup.log" should match /backup (done|finished)/

  @hosts:lb1
  Scenario: The load balancer runs HAProxy
    Then the service "haproxy" should be running
    And the service "haproxy" should be enabled at boot
    And port 8404 should be listening

  @hosts:app1
  Scenario: The application server runs Apache
    Then the service "apache2" should be running
    And the service "apache2" should be enabled at boot
    And the service "nginx" should not be enabled at boot

  @hosts:web1,app1
  Scenario: cron runs the nightly jobs
    Then the service "cron" should be running
    And the service "cron" should be enabled at boot
    And a process named "cron" should be running

  @hosts:web,lb,db,app
  Scenario: The application config is deployed as root-owned 0644
    Then the file "/etc/app.conf" should exist
    And the file "/etc/app.conf" should contain "max_conn = 100"
    And the file "/etc/app.conf" should match /^max_conn = \d+$/
    And the file "/etc/app.conf" should be owned by "root"
    And the file "/etc/app.conf" should have mode "0644"
    And the file "/etc/nologin" should not exist

  @hosts:web,lb,db,app
  Scenario: The base system is the same everywhere
    Then the service "ssh" should be running
    And the service "ssh" should be enabled at boot
    And the PHP module "curl" should be loaded
    And the group "www-data" should exist
    And the kernel parameter "net.core.somaxconn" should be "4096"
    And the filesystem "/" should be less than 99% full
    And "/" should be in /etc/fstab from "/dev/vda"

  @hosts:web,app
  Scenario: Application accounts exist where the application is deployed
    Then the user "appuser" should exist
    And the group "appuser" should exist

  @hosts:web,lb,app,db1
  Scenario: The data volume is mounted as configured
    Then "/mnt/data" should be mounted
    And "/mnt/data" should be mounted from "tmpfs"
    And "/mnt/data" should be mounted with type "tmpfs"
    And "/mnt/data" should be mounted with option "noatime"
    And "/mnt/data" should be in /etc/fstab
    And "/mnt/data" should be in /etc/fstab from "tmpfs"
    And the filesystem "/mnt/data" should be less than 90% full

  # No @hosts: tag: these steps name their own hosts and ask them all at once.
  Scenario: No web server is out of whack
    Then the file "/etc/app.conf" should be the same on all hosts in group "web"
    And the output of "md5sum /etc/app.conf" should be the same on all hosts in group "web"
    And the output of "cat /etc/app.conf" should be the same on all hosts in group "db"
