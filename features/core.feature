# The core suite: every lab host is reachable over SSH and is the host it claims to be.
# Run against the lab:  shakedown run -i .lab/inventory.toml features/core.feature
@hosts:web,lb,db,app
Feature: Every host answers and is itself

  Scenario: The host knows its own name
    When I run "hostname"
    Then the command should succeed
    And the exit status should be 0
    And the output should contain "{name}"
    And the output should not contain "localhost"

  Scenario: The application config is deployed
    Then the command "test -f /etc/app.conf" should succeed
    And the output of "cat /etc/app.conf" should contain "max_conn = 100"

  Scenario: SSH answers quickly and telnet is off
    Then TCP port 22 on "{address}" should be open within 1000 ms
    And TCP port 23 on "{name}" should be closed
