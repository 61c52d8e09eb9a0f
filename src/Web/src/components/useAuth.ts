"use client";
import { useEffect, useState } from "react";
import { api, hasSession, onAuthChange, type Schemas } from "@/api/client";

export type Profile = Schemas["ProfileResponse"];

/** The signed-in profile: undefined while loading, null when signed out. */
export function useProfile(): Profile | null | undefined {
  const [profile, setProfile] = useState<Profile | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    const load = async () => {
      if (!hasSession()) {
        if (live) setProfile(null);
        return;
      }
      const { data } = await api.GET("/api/v1/me");
      if (live) setProfile(data ?? null);
    };
    void load();
    const off = onAuthChange(() => void load());
    return () => {
      live = false;
      off();
    };
  }, []);
  return profile;
}
