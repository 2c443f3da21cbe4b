# The fleet suite: hosts as real fleets have them. systemd as PID 1 (sd1, sd2), hosts that
# answer only through a bastion (int1, int2), logged in as `deploy` (root cannot log in on sd2
# and int2) and reading as root with `become`. Run it with the lab's fleet inventory, which
# holds every lab host that way (ci/lab/fleet.sh); the other suites run with it too:
#
#   export SHAKEDOWN_MYSQL_PASSWORD=$(cat .lab/mysql_password)
#   export SHAKEDOWN_BECOME_PASSWORD=$(cat .lab/deploy_sudo_password)
#   shakedown run -i .lab/fleet.toml -t 'not @deploy' features/
Feature: Hosts as real fleets have them are checked as deploy, reading as root

  @hosts:systemd,internal
  Scenario: Every command runs as root through sudo, logged in as deploy
    When I run "id -un"
    Then the command should succeed
    And the output should match /^root$/
    And the file "/etc/shadow" should be owned by "root"
    And the file "/etc/app.conf" should contain "max_conn = 100"
    And the user "deploy" should exist

  @hosts:sd1
  Scenario: nginx runs as a systemd unit and logs to the journal
    Then the service "nginx" should be running
    And the service "nginx" should be enabled at boot
    And port 80 should be listening
    And the journal of "ssh" should contain /Accepted publickey for deploy/ within the last 60 minutes
    And the journal of "nginx" should not contain /emerg|crit/ within the last 60 minutes

  @hosts:sd2
  Scenario: A plain systemd host has nothing failed
    Then no systemd unit should be failed
    And the service "ssh" should be running
    And the service "lab-tick.timer" should be running
    And the service "apache2" should not be running

  @hosts:int1
  Scenario: A web server behind the bastion serves
    Then the service "nginx" should be running
    And a process named "nginx" should be running
    And port 80 should be listening
