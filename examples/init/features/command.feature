# Command steps: run a command on each host of the group (over SSH, as the inventory's
# user) and check its exit status and output. Arguments are quoted for you; only the
# command of "I run" is given to the shell as written. `shakedown steps command` lists them.
@hosts:web
Feature: The web servers answer commands

  Scenario: The web servers report their load
    When I run "uptime"
    Then the command should succeed
    And the output should contain "load average"

  Scenario: The document root is deployed
    Then the command "test -d /var/www/html" should succeed
