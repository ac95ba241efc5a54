"""netsim"""
