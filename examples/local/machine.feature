# This suite checks the machine it runs on: no inventory, no SSH.
# Run it with:  cargo run --release -- run examples/local
Feature: This machine is healthy
  A small suite that passes on any Linux machine. Without an inventory,
  every scenario runs on "localhost" through the local transport.

  Scenario: The kernel answers
    When I run "uname -s"
    Then the command should succeed
    And the output should contain "Linux"

  Scenario: The system has been up and reports its load
    When I run "cat /proc/loadavg"
    Then the exit status should be 0
    And the output should match /^\d+\.\d+ \d+\.\d+ \d+\.\d+/
    And the output should not contain "ERROR"

  Scenario: Basic files are where they belong
    Then the command "test -d /etc" should succeed
    And the output of "cat /etc/os-release" should contain "NAME="

  Scenario: A missing command fails the way it should
    When I run "exit 3"
    Then the command should fail
    And the exit status should be 3

  Scenario: Nothing listens on the discard port
    Then TCP port 9 on "127.0.0.1" should be closed
