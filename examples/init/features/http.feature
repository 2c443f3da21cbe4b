# HTTP steps: requests made from the machine running shakedown; {address} is each web
# server's inventory address. The response time is a measured value.
@hosts:web
Feature: The web servers answer HTTP, fast

  Scenario: The home page is the site, not an error page
    When I request "http://{address}/"
    Then the response status should be 200
    And the response header "Content-Type" should contain "text/html"
    And the response should not contain "Traceback"
    And the response time should be under 1000 ms
