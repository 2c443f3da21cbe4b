# System steps: services, packages, files, mounts, processes and listening ports, read
# on each host over SSH (systemd or SysV, dpkg or rpm are detected once per host).
@hosts:web
Feature: The web servers run nginx

  Scenario: nginx is installed, running and listening
    Then the package "nginx" should be installed
    And the service "nginx" should be running
    And a process named "nginx" should be running
    And port 80 should be listening

  Scenario: The disks have room
    Then the filesystem "/" should be less than 95% full
