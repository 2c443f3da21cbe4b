# The web farm suite: after a deploy, does every web server answer with the right content,
# fast enough and with certificates that will not expire this month, and does the load
# balancer see every one of them UP?
#
# Run against the lab:
#   SHAKEDOWN_MYSQL_PASSWORD=$(cat .lab/mysql_password) \
#     shakedown run -i .lab/inventory.toml features/web.feature -t "not @deploy"
#
# HTTP requests and TLS handshakes go from the machine running shakedown; the HAProxy
# steps read HAProxy's own view over SSH on the load balancer.
Feature: The web farm answers, fast and balanced

  @hosts:web
  Scenario: Every web server reports itself healthy
    When I request "http://{address}/health"
    Then the response status should be 200
    And the response header "Content-Type" should contain "application/json"
    And the JSON at "status" should be "ok"
    And the JSON at "host" should be "{name}"
    And the JSON at "data.items.1.name" should be "b"

  @hosts:web
  Scenario: The home page is the site, not an error page
    When I request "http://{address}/" with header "Accept: text/html"
    Then the response status should not be 500
    And the response header "Content-Type" should contain "text/html"
    And the response should contain "Welcome to {name}"
    And the response should match /<h1>Welcome to web[0-9]+</h1>/
    And the response should not contain "Traceback"
    And the response time should be under 500 ms

  @hosts:web
  Scenario: Old links are redirected, not broken
    When I request "http://{address}/old"
    Then the response status should be 301
    And the response should redirect to "http://{address}/new"

  @hosts:web
  Scenario: The API accepts a POST
    When I send a POST request to "http://{address}/api" with body:
      """
      {"ping": true}
      """
    Then the response status should be 200
    And the JSON at "ok" should be "true"
    And the JSON at "method" should be "POST"

  # The public name does not resolve here: "via" sends the request to each backend in turn
  # with the public Host header (and SNI, for https:// URLs).
  @hosts:web
  Scenario: Each backend serves the public site
    When I request "http://www.shakedown.test/health" via "{address}"
    Then the response status should be 200
    And the JSON at "host" should be "{name}"

  @hosts:web
  Scenario: Every backend is fast under repeated requests
    When I request "http://{address}/" 20 times
    Then the response status should be 200
    And the response time should be under 500 ms
    And the 95th percentile response time should be under 300 ms

  @hosts:web
  Scenario: The slow path answers in time
    When I request "http://{address}/slow"
    Then the response should contain "slow ok"
    And the response time should be under 1000 ms

  @hosts:web
  Scenario: Certificates do not expire this month
    Then the TLS certificate for "{address}:443" should be valid for at least 30 days
    And the TLS certificate for "www.shakedown.test:443" via "{address}" should be valid for at least 30 days

  @hosts:lb
  Scenario: The site answers through the load balancer
    When I request "http://{address}/health" 10 times
    Then the response status should be 200
    And the JSON at "status" should be "ok"

  @hosts:lb
  Scenario: HAProxy sends traffic to every web server
    Then the HAProxy backend "app" should have all servers UP
    And the HAProxy backend "app" should have at least 2 servers UP
    And the server "web1" in HAProxy backend "app" should be UP
    And the server "web2" in HAProxy backend "app" should be UP

  # During a rolling deploy web1 is drained first (on lb1:
  # `echo "set server app/web1 state maint" | socat stdio /run/haproxy/admin.sock`):
  #   shakedown run -i .lab/inventory.toml features/web.feature -t @deploy
  @hosts:lb @deploy
  Scenario: web1 is drained for its deploy and web2 carries the traffic
    Then the server "web1" in HAProxy backend "app" should be in MAINT
    And the server "web2" in HAProxy backend "app" should be UP
    And the HAProxy backend "app" should have at least 1 servers UP

  @hosts:app
  Scenario: Apache is not overloaded
    Then Apache on "{address}" should be serving between 0 and 500 requests per second
