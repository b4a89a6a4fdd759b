"""Coverage: divisions, households and members, products, policies, enrolment, certificates, gap reports."""
